#!/usr/bin/env bash
# `make bench` end to end on a small set and short runs, against its own PostgreSQL and
# RabbitMQ: every stage runs (ceilings, the accept side alone with amqp_ceiling --drain, the
# storing ceiling in its own schema, ingest, connections, the POC, reads), the report is
# written, and nothing accepted is lost or duplicated in any run. No figure is judged: speed
# lives in `make bench` itself.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }

if BENCH_OUT=$tmp/out.md BENCH_PEOPLE=100 BENCH_BOOTHS=30 BENCH_DAYS=1 BENCH_PINGS=20000 \
    BENCH_DURATION=4 BENCH_SHORT=2 BENCH_SINGLE_RUNS=2 BENCH_QUERY_PEOPLE=2 BENCH_QUERY_REPEAT=1 \
    BENCH_POC_SAMPLE=1 scripts/bench >"$tmp/bench.log" 2>&1; then
    ok "scripts/bench runs every stage on a small set"
else
    not_ok "scripts/bench failed: $(tail -n 20 "$tmp/bench.log")"
    exit 0
fi

row() { grep -F "| $1" "$tmp/out.md"; }
# "| A = B |" with A = B and B > 0, marked met.
equal_and_met() { # row-prefix
    local line a b
    line=$(row "$1")
    a=$(sed -n 's/.*| \([0-9]*\) = \([0-9]*\) |.*/\1/p' <<<"$line")
    b=$(sed -n 's/.*| \([0-9]*\) = \([0-9]*\) |.*/\2/p' <<<"$line")
    [ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" -gt 0 ] && grep -qF '**met**' <<<"$line"
}
for r in "single: stored = accepted (all 2 runs)" "batches: stored = accepted" "half load: stored = accepted"; do
    equal_and_met "$r" && ok "$r" || not_ok "$r: $(row "$r")"
done

accept=$(row "single pings accepted with udc-writer replaced by a consumer that stores nothing")
grep -qE 'median of 2 runs: [1-9][0-9,]* / [1-9][0-9,]*;.*\| [1-9][0-9,]* /s \|' <<<"$accept" &&
    ok "the accept side alone was measured in both rounds" || not_ok "accept ceiling row: $accept"

bare=$(row "single pings accepted and stored by udc-writer into a table with only the key")
stored=$(sed -n 's/.*stored \([0-9]*\) of \([0-9]*\)).*/\1 \2/p' <<<"$bare")
read -r s a <<<"$stored"
[ -n "${s:-}" ] && [ "$s" = "$a" ] && [ "$s" -gt 0 ] &&
    ok "the storing ceiling stored every ping it accepted, in its own table" ||
    not_ok "storing ceiling row: $bare"
