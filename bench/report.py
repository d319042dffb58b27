#!/usr/bin/python3
"""bench/report.py RESULTS COMMANDS OUT — the table of `scripts/bench`.

RESULTS holds "key value" lines written during the run, COMMANDS the commands run. Prints
the table and writes OUT (docs/benchmarks.md): the run's figures, then bench/analysis.md
(what bounds the misses, profiles; kept by hand).
"""
import os
import sys

TARGETS = {  # issue targets on this 2-core machine
    "single_rate": 10000, "single_p99_ms": 20, "batch_of_copy": 0.80, "half_lag_p99_ms": 1000,
    "poc_p50_ms": 100, "poc_p99_ms": 300, "copresence_p99_ms": 10, "persons_req_s": 5000,
    "rss_idle_mb": 20, "rss_load_mb": 64,
}
POC_RECORDED = {"post_req_s": 481, "persons_req_s": 78, "query_s": 275}
DAEMONS = ["ingest-http", "writer", "connector", "api"]


def load(path):
    r = {}
    for line in open(path):
        k, _, v = line.rstrip("\n").partition(" ")
        r[k] = v
    return r


def num(r, k, default=None):
    try:
        return float(r[k])
    except (KeyError, ValueError):
        return default


def fmt(v, unit="", digits=None):
    if v is None:
        return "–"
    if digits is None:
        digits = 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2
    s = f"{v:,.{digits}f}"
    return s + (" " + unit if unit else "")


def ratio(a, b):
    if a is None or b in (None, 0):
        return "–"
    x = a / b
    return f"{x:.2f}" if x < 10 else f"{x:,.0f}×"


def verdict(ok):
    return "–" if ok is None else ("**met**" if ok else "**missed**")


def main():
    r = load(sys.argv[1])
    commands = open(sys.argv[2]).read().strip()
    out = sys.argv[3]
    rows = []  # (section, measure, ours, reference, ratio, target, met)

    def row(sec, what, ours, ref="", rat="", target="", met=None):
        rows.append((sec, what, ours, ref, rat, target, verdict(met)))

    copy_empty = num(r, "copy_rows_s")
    copy = num(r, "copy_loaded_rows_s") or copy_empty
    copy_b0, copy_b1 = num(r, "copy_batch_start_rows_s"), num(r, "copy_batch_end_rows_s")
    copy_batch = (copy_b0 + copy_b1) / 2 if copy_b0 and copy_b1 else copy
    a1 = {k: num(r, f"amqp1_{k}_msgs_s") for k in ("publish", "consume", "together")}
    a100 = num(r, "amqp100_together_pings_s")
    h1, h100 = num(r, "http1_req_s"), num(r, "http100_req_s")
    row("1 ceiling", "COPY into the empty `location` (1000-row transactions, every index, FK): the load",
        fmt(copy_empty, "rows/s"))
    row("1 ceiling", "COPY into the loaded `location` (100,000 more rows, same way): the single-ping ceiling",
        fmt(copy, "rows/s"))
    if copy_b0 and copy_b1:
        row("1 ceiling", "COPY into `location` as the batch run found it / left it (100,000 rows each): "
            "their mean is the batch ceiling", f"{fmt(copy_b0)} / {fmt(copy_b1)} → {fmt(copy_batch, 'rows/s')}")
    row("1 ceiling", "RabbitMQ persistent publish + confirms (window 1000), 1 ping/msg", fmt(a1["publish"], "msg/s"))
    row("1 ceiling", "RabbitMQ consume, manual acks (prefetch 2000), 1 ping/msg", fmt(a1["consume"], "msg/s"))
    row("1 ceiling", "RabbitMQ publish and consume together, 1 ping/msg", fmt(a1["together"], "msg/s"))
    row("1 ceiling", "RabbitMQ publish and consume together, 100 pings/msg", fmt(a100, "pings/s"))
    row("1 ceiling", "libmicrohttpd trivial POST handler, single-ping bodies (wrk)", fmt(h1, "req/s"))
    row("1 ceiling", "libmicrohttpd trivial POST handler, 100-ping bodies (wrk)",
        fmt(h100 * 100 if h100 else None, "pings/s"))
    def runs_note(prefix):  # "median of 3 runs: a / b / c; " when there were several
        runs = r.get(f"{prefix}_runs_accepted_s", "").split()
        return f"median of {len(runs)} runs: {' / '.join(fmt(float(x)) for x in runs)}; " if len(runs) > 1 else ""

    accept = num(r, "accept_accepted_s")
    if accept:
        row("1 ceiling", "single pings accepted with udc-writer replaced by a consumer that stores "
            f"nothing (the accept side alone; {runs_note('accept')}p99 {fmt(num(r, 'accept_p99_ms'), 'ms')})",
            fmt(accept, "/s"))
    bare = num(r, "bare_accepted_s")
    if bare:
        row("1 ceiling", "single pings accepted and stored by udc-writer into a table with only the key, "
            f"the unique event id and the person FK (the read indexes left out; {runs_note('bare')}"
            f"p99 {fmt(num(r, 'bare_p99_ms'), 'ms')}; stored {r.get('bare_all_stored')} of "
            f"{r.get('bare_all_accepted')})", fmt(bare, "/s"))

    s_acc, s_sto = num(r, "single_accepted_s"), num(r, "single_stored_s")
    s_p50, s_p99 = num(r, "single_p50_ms"), num(r, "single_p99_ms")
    single_ceiling = min(x for x in (h1, a1["together"], copy) if x) if (h1 and a1["together"] and copy) else None
    runs = r.get("single_runs_accepted_s", "").split()
    of_runs = (f"median of {len(runs)} runs of {r.get('duration_s', 30)} s: "
               f"{' / '.join(fmt(float(x)) for x in runs)}; " if len(runs) > 1 else "")
    row("2 ingest", f"single pings accepted/s ({of_runs}server count; {r.get('single_accepted', '?')} in the run)",
        fmt(s_acc, "/s"), f"lowest ceiling {fmt(single_ceiling)}", ratio(s_acc, single_ceiling),
        "≥ 10,000", s_acc is not None and s_acc >= TARGETS["single_rate"])
    row("2 ingest", "single pings stored/s in PostGIS", fmt(s_sto, "/s"), f"COPY {fmt(copy)}",
        ratio(s_sto, copy), "≥ 10,000", s_sto is not None and s_sto >= TARGETS["single_rate"])
    row("2 ingest", "single: accept latency p50 / p99", f"{fmt(s_p50, 'ms')} / {fmt(s_p99, 'ms')}", "", "",
        "p99 ≤ 20 ms", s_p99 is not None and s_p99 <= TARGETS["single_p99_ms"])
    s_all_sto = r.get("single_all_stored", r.get("single_stored"))
    s_all_acc = r.get("single_all_accepted", r.get("single_accepted"))
    row("2 ingest", "single: stored = accepted" + (f" (all {len(runs)} runs)" if len(runs) > 1 else ""),
        f"{s_all_sto} = {s_all_acc}", "", "", "equal", s_all_sto == s_all_acc)
    row("2 ingest", "single: accept-to-stored lag p50 / p99 (at peak)",
        f"{fmt(num(r, 'single_lag_p50_ms'), 'ms')} / {fmt(num(r, 'single_lag_p99_ms'), 'ms')}")
    b_acc, b_sto = num(r, "batch_accepted_s"), num(r, "batch_stored_s")
    row("2 ingest", f"100-ping batches: pings accepted/s ({r.get('batch_accepted', '?')} in the run)",
        fmt(b_acc, "/s"), f"COPY {fmt(copy_batch)}", ratio(b_acc, copy_batch), "≥ 0.80 of COPY",
        b_acc is not None and copy_batch and b_acc / copy_batch >= TARGETS["batch_of_copy"])
    row("2 ingest", "100-ping batches: pings stored/s", fmt(b_sto, "/s"), f"COPY {fmt(copy_batch)}",
        ratio(b_sto, copy_batch), "≥ 0.80 of COPY",
        b_sto is not None and copy_batch and b_sto / copy_batch >= TARGETS["batch_of_copy"])
    row("2 ingest", "batches: request latency p50 / p99",
        f"{fmt(num(r, 'batch_p50_ms'), 'ms')} / {fmt(num(r, 'batch_p99_ms'), 'ms')}")
    row("2 ingest", "batches: stored = accepted", f"{r.get('batch_stored')} = {r.get('batch_accepted')}", "", "",
        "equal", r.get("batch_stored") == r.get("batch_accepted"))
    row("2 ingest", "batches: accept-to-stored lag p50 / p99 (at peak)",
        f"{fmt(num(r, 'batch_lag_p50_ms'), 'ms')} / {fmt(num(r, 'batch_lag_p99_ms'), 'ms')}")
    h_acc, h_lag99 = num(r, "half_accepted_s"), num(r, "half_lag_p99_ms")
    row("2 ingest", f"half load (aimed at {r.get('half_target_s')}/s): achieved, lag p50 / p99",
        f"{fmt(h_acc, '/s')}; {fmt(num(r, 'half_lag_p50_ms'), 'ms')} / {fmt(h_lag99, 'ms')}", "", "",
        "lag p99 ≤ 1 s", h_lag99 is not None and h_lag99 <= TARGETS["half_lag_p99_ms"])
    row("2 ingest", "half load: stored = accepted", f"{r.get('half_stored')} = {r.get('half_accepted')}", "", "",
        "equal", r.get("half_stored") == r.get("half_accepted"))

    pp50, pp99 = num(r, "conn_poc_p50_ms"), num(r, "conn_poc_p99_ms")
    poc_person_s = num(r, "poc_person_s_p50")
    row("3 connections", f"POC semantics (distance=5, whole range), {r.get('conn_poc_n')} requests: p50",
        fmt(pp50, "ms"), f"POC {fmt(poc_person_s, 's')} (extrapolated)",
        ratio(poc_person_s * 1000 if poc_person_s else None, pp50) + " faster" if pp50 else "–",
        "≤ 100 ms", pp50 is not None and pp50 <= TARGETS["poc_p50_ms"])
    row("3 connections", "POC semantics: p99", fmt(pp99, "ms"), "", "", "≤ 300 ms",
        pp99 is not None and pp99 <= TARGETS["poc_p99_ms"])
    row("3 connections", "POC semantics: answer of the first timed person",
        f"{r.get('conn_poc_people')} people, {fmt(num(r, 'conn_poc_bytes', 0) / 1000, 'kB')}",
        f"POC {fmt(num(r, 'poc_person_rows_p50'))} items, {fmt(num(r, 'poc_person_mb_p50'), 'MB')} (median, extrapolated)")
    cp50, cp99 = num(r, "conn_copresence_p50_ms"), num(r, "conn_copresence_p99_ms")
    row("3 connections", f"co-presence (window=30, precomputed), {r.get('conn_copresence_n')} requests: p50 / p99",
        f"{fmt(cp50, 'ms')} / {fmt(cp99, 'ms')}", "", "", "p99 ≤ 10 ms", cp99 is not None and cp99 <= TARGETS["copresence_p99_ms"])
    if "backfill_rows_s" in r:
        row("3 connections", f"connector backfill of the whole set ({r.get('backfill_rows')} rows)",
            fmt(num(r, "backfill_rows_s"), "rows/s"))
    else:
        row("3 connections", f"connector pairing of the timed people's pings ({r.get('pair_rows')} rows)",
            fmt(num(r, "pair_rows_s"), "rows/s"))

    row("4 POC", f"find_contacts: one query per own ping (median of {r.get('poc_queries')} sampled)",
        fmt(num(r, "poc_per_ping_ms"), "ms"))
    row("4 POC", f"find_contacts per person, {r.get('poc_own_pings_p50')} own pings (extrapolated): median / max",
        f"{fmt(poc_person_s, 's')} / {fmt(num(r, 'poc_person_s_max'), 's')}", f"recorded: {POC_RECORDED['query_s']} s")
    pp = num(r, "poc_post_req_s")
    row("4 POC", "POST /api/locations, one-row synchronous insert (Python stand-in)", fmt(pp, "req/s"),
        f"recorded POC: {POC_RECORDED['post_req_s']}", "ours " + ratio(s_acc, POC_RECORDED["post_req_s"]))
    pr, ppr = num(r, "persons_req_s"), num(r, "poc_persons_req_s")
    row("5 reads", f"GET /api/persons ({r.get('persons_bytes')} bytes), p99 {fmt(num(r, 'persons_p99_ms'), 'ms')}",
        fmt(pr, "req/s"), f"stand-in {fmt(ppr)}; recorded POC {POC_RECORDED['persons_req_s']}",
        ratio(pr, POC_RECORDED["persons_req_s"]), "≥ 5,000", pr is not None and pr >= TARGETS["persons_req_s"])

    for d in DAEMONS:
        idle = num(r, f"rss_idle_{d}")
        # The largest of every run under load (each single-ping run, batch, half, reads).
        load_mb = max([num(r, k, 0) for k in r if k.startswith("rss_") and k.endswith("_" + d)
                       and k != f"rss_idle_{d}"] or [0])
        row("6 footprint", f"udc-{d} RSS idle / under load", f"{fmt(idle, 'MB')} / {fmt(load_mb, 'MB')}", "", "",
            "≤ 20 / ≤ 64 MB", idle is not None and idle <= TARGETS["rss_idle_mb"] and load_mb <= TARGETS["rss_load_mb"])

    header = ["§", "measure", "ours", "reference", "ratio", "target", "result"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in rw) + " |" for rw in rows]
    table = "\n".join(lines)

    groups = ["ingest-http", "writer", "connector", "api", "rabbitmq", "postgresql", "wrk"]
    # "rest" is the machine's busy time (/proc/stat) not in the processes above: the kernel's
    # own threads and interrupts (loopback, disk), the bench's shell, anything else running.
    cpu = ["| run | " + " | ".join(groups) + " | total | rest | idle + iowait |",
           "|" + "---|" * (len(groups) + 4)]
    cpu_runs = [("single", "single"), ("accept", "single, nothing stored"), ("bare", "single, read indexes left out"),
                ("batch", "batch"), ("half", "half")]
    for p, label in cpu_runs:
        if num(r, f"cpu_{p}_busy") is None and p in ("accept", "bare"):
            continue  # results of a bench from before these runs recorded their CPU
        vals = [num(r, f"cpu_{p}_{g}", 0.0) for g in groups]
        busy, idle = num(r, f"cpu_{p}_busy"), num(r, f"cpu_{p}_idle")
        rest = f"{busy - sum(vals):.2f}" if busy is not None else "–"
        cpu.append(f"| {label} | " + " | ".join(f"{v:.2f}" for v in vals) + f" | {sum(vals):.2f} | {rest} | "
                   + (f"{idle:.2f}" if idle is not None else "–") + " |")
    cpu_table = "\n".join(cpu)

    print(table)
    print()
    print("CPU during ingest (cores; the machine has %s):" % r.get("cores"))
    print(cpu_table)

    analysis_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md")
    analysis = open(analysis_path).read() if os.path.exists(analysis_path) else ""
    doc = f"""# Benchmarks

Written by `make bench` (`scripts/bench`) on {r.get('date')}; do not edit by hand — the
analysis at the end comes from `bench/analysis.md`.

**Machine:** {r.get('cores')} cores, {r.get('cpu')}, {r.get('mem_gib')} GiB, Linux {r.get('kernel')}.
Load average before / after the run: {r.get('load_before')} / {r.get('load_after')}.
Host speed probe (`gen_pings`, 1,000,000 pings to /dev/null, CPU seconds, median of 3): {r.get('probe_before_s', '–')} s
before / {r.get('probe_after_s', '–')} s after the run.
**Versions:** PostgreSQL {r.get('v_postgresql')}, PostGIS {r.get('v_postgis')}, RabbitMQ
{r.get('v_rabbitmq')}, libmicrohttpd {r.get('v_libmicrohttpd')}, librabbitmq {r.get('v_librabbitmq')},
wrk {r.get('v_wrk')}, Python {r.get('v_python')}, {r.get('v_cc')}; UdaConnect at {r.get('commit')}.
**Data:** `scripts/gen-data` defaults — {r.get('data_pings')} pings of 1,000 people at 300 booths
over 3 days (connections asked for {r.get('query_range')}). The whole run took {r.get('elapsed_s')} s.

Everything — wrk, the daemons, RabbitMQ, PostgreSQL, the Python POC — shares the
{r.get('cores')} cores, and other work ran on this machine at the same time, so figures move by
±20 % or more from run to run: compare the ratios and figures of one run, not of two. Every
figure below comes from the same run.

## Results

{table}

"Ratio" is ours / reference (for the POC rows: how many times faster ours is). Ceilings are
measured on the same stack in the same run, before the daemons start.

### CPU during ingest (cores used, from /proc/PID/stat; wrk included)

{cpu_table}

"Single, nothing stored" is the accept-side ceiling's run: its writer column is the consumer
that takes the messages in udc-writer's place and stores nothing. "Single, read indexes left
out" is the storing ceiling's run: udc-writer storing into the table without them.
"Rest" is the machine's busy time (`/proc/stat`) outside the processes to its left: the
kernel's own threads and interrupts (loopback networking, disk writes), the bench's shell.
"Idle + iowait" is time no core had work: with some left, the run waited on latency
(confirms, fsyncs) rather than on CPU.

## How it was measured

- **Stack:** a throwaway `scripts/stack` in its own folder under /tmp on free ports, torn
  down at the end; the daemons through `scripts/run up` with the default configuration.
- **COPY ceiling:** `scripts/gen-data load` sends the set to PostgreSQL as `COPY location …
  FROM STDIN` of 1000 rows each (one transaction each), coordinates as hex EWKB, into the
  real table with all its indexes (pk, unique event_id, GiST, two btrees) and the FK; the
  file is generated before the clock starts. Then 100,000 more pings (another seed, 60 days
  later) the same way into the loaded table — the state the single-ping runs write into,
  where the indexes no longer fit in memory — and removed again: that second figure is the
  ceiling single pings are compared with. The batch run stores over a million rows, and a
  row costs more the larger the indexes it goes into (the GiST and grid indexes put each
  row on a random page): its ceiling is the mean of two more such COPYs of 100,000 rows, one
  into the table as the run finds it and one as it leaves it (waiting for autovacuum to
  finish before each, which the batch run does not get).
- **RabbitMQ ceiling:** `bench/amqp_ceiling.c` (librabbitmq): persistent messages with
  publisher confirms (window 1000) into a durable quorum queue, consumed with manual acks
  (prefetch 2000, multiple acks); alone, then both at once on two connections.
- **HTTP ceiling:** `bench/http_ceiling.c`: libmicrohttpd with epoll and a pool of 2 threads,
  reading the body and answering 202, under the same wrk script as ingest.
- **Accept-side and storing ceilings:** each single-ping run (below) is followed by two more
  like it, so that the three kinds alternate and the host's drift falls on all of them; each
  row shows its kind's median run. The accept side alone: udc-writer stopped and
  `amqp_ceiling --drain` taking its messages instead (prefetch 2000, acks every 100 ms) and
  storing nothing: udc-ingest-http, RabbitMQ and wrk with the cores to themselves, the same
  confirms and the same disk; its pings are thrown away. Storing without the read indexes:
  udc-writer storing into `bench_bare.location`, created empty before the first round with
  the same columns and only the primary key, the unique event id and the person's foreign
  key, what storing itself needs (the writer's idempotency and the person check), without
  the GiST, grid and time indexes the reads need. The writer's database role gets
  `search_path = bench_bare, public` for those runs (the same writer, statement, broker and
  confirms), reset after each, and the bench's own queries as that role count the stored
  rows there like those of any ingest run; the schema is dropped before the batch run.
- **Ingest:** wrk (2 threads) with `bench/post_bodies.lua` replays the generated pings, each
  stamped with the send time as `creation_time` (µs). Accepted = the ingest daemon's
  `udc_ingest_accepted_total` (what it answered 202; wrk may miss the answers in flight when
  it stops); stored = rows with source `mobile`, waited for after the run. Lag =
  `received_at − creation_time` of the stored rows; `received_at` is the writer's
  transaction start (`DEFAULT now()`), so the commit of the batch (a few ms) comes on top.
  Stored/s = rows / (last `received_at` − first send). Single pings run {'once' if len(runs) <= 1 else f'{len(runs)} times'}
  (each followed by the two ceiling runs above); the table's figures for them (rates, latencies, lag, CPU) all come from the run
  with the median accepted rate, and the footprint from the largest of all. Half load: 32 connections, each
  waiting a fixed delay before each request, aimed at half the single-ping rate.
  **The connector is stopped during ingest:** replayed pings all carry "now" at 300 booths,
  so each would pair with hundreds of others within 30 minutes (tens of millions of pairs
  in 30 s), which no conference produces; its pairing rate is reported in section 3.
- **A settled database before the timed reads and the POC:** the bulk loads before them (the
  set and the connector's pairs; the ingest runs) leave PostgreSQL vacuuming and
  checkpointing for a minute or more on the same cores, so the bench runs `VACUUM (ANALYZE)
  location, connection` and `CHECKPOINT` and waits for autovacuum to finish first.
- **Connections:** {r.get('conn_poc_n')} requests per kind: {r.get('conn_poc_n') and int(int(r.get('conn_poc_n')) / 20)} per person for 20
  people spread over the ids, after one warm-up request each, sequential, timed by curl.
  Co-presence is answered from the precomputed `connection` table; unless `BENCH_BACKFILL=full`,
  only the timed people's pings were paired (by the connector, from `location.stored`
  events naming their rows): a full backfill of the set takes longer than the whole
  benchmark (see the analysis).
- **POC:** `bench/poc.py` (Debian python3 + psycopg2) on a copy of the set in a database
  with the POC's own schema (`coordinate geometry` without SRID, btree `coordinate_idx` and
  `creation_time_idx`, `creation_time timestamp`). `find_contacts` as the POC ran it: the
  person's pings through the ORM's query, then per own ping the POC's SQL verbatim —
  `ST_DWithin(coordinate::geography, ST_SetSRID(ST_MakePoint(:latitude,:longitude),4326)::geography, :meters)`
  with `person_id != :person_id` and `TO_DATE(:start_date) <= creation_time < TO_DATE(:end_date + 1 day)`;
  `:latitude` is the first WKT number (the POC's swapped naming, so x goes to x) and
  `:meters` the query string's `'5'` (metres: the geography cast makes it geodesic, not
  degrees) — then one Connection object per row and the JSON. Only
  {r.get('poc_queries')} own pings (evenly spread) are queried; per-person times, item counts
  and sizes are extrapolated (× own pings / sampled), labelled as such. The POC's ingest and
  `GET /api/persons` run as a threaded `http.server` stand-in with the POC's one-row
  transaction (insert, commit, reload), for the order of magnitude only: its threads contend
  for Python's lock, so under wrk's 64 connections it can fall far below the POC (here: ~380
  req/s of `GET /api/persons` on one connection, ~60 on four or more). The ratios are
  therefore taken against the figures recorded from the POC itself (481 req/s, 78 req/s,
  275 s), shown beside the stand-in's.
- **Footprint:** VmRSS from /proc 3 s after start (idle) and its maximum, sampled every 0.5 s,
  during the ingest, connection and read runs (under load).

## Commands

```
make bench        # = make all && scripts/bench
{commands}
```

{analysis}"""
    with open(out, "w") as f:
        f.write(doc)
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
