#!/usr/bin/env bash
# The bench's bookkeeping without a stack: scripts/bench's median_run on three made-up
# single-ping runs, and bench/report.py on its output (the median run's figures, every
# run's rate, stored = accepted over all runs, the footprint over every run).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
value() { awk -v k="$1" '$1 == k {sub(/^[^ ]+ /, ""); print}' "$tmp/results.txt"; }
expect() { # key want
    local got
    got=$(value "$1")
    [ "$got" = "$2" ] && ok "$1 = $2" || not_ok "$1: got '$got', want '$2'"
}

# Run 3 has the median rate; run 2 loses a ping and has the largest writer RSS.
cat >"$tmp/results.txt" <<'RESULTS'
rss_idle_writer 11.0
single1_accepted_s 10500
single1_accepted 315000
single1_stored 315000
single1_p99_ms 25.0
cpu_single1_wrk 0.30
rss_single1_writer 15.0
single2_accepted_s 8000
single2_accepted 240000
single2_stored 239999
single2_p99_ms 31.0
cpu_single2_wrk 0.20
rss_single2_writer 70.5
single3_accepted_s 9000
single3_accepted 270000
single3_stored 270000
single3_p99_ms 18.5
cpu_single3_wrk 0.25
rss_single3_writer 16.0
accept1_accepted_s 13500
accept1_p99_ms 9.4
cpu_accept1_writer 0.05
cpu_accept1_postgresql 0.01
cpu_accept1_busy 1.40
cpu_accept1_idle 0.58
accept2_accepted_s 12000
accept2_p99_ms 30.0
accept3_accepted_s 14000
accept3_p99_ms 8.0
bare1_accepted_s 10200
bare1_p99_ms 15.1
bare1_accepted 306000
bare1_stored 306000
cpu_bare1_postgresql 0.20
cpu_bare1_busy 1.60
cpu_bare1_idle 0.38
bare2_accepted_s 9000
bare2_p99_ms 40.0
bare2_accepted 270000
bare2_stored 270000
bare3_accepted_s 11000
bare3_p99_ms 12.0
bare3_accepted 330000
bare3_stored 329000
RESULTS
(
    # shellcheck source=scripts/bench
    . scripts/bench
    RESULTS=$tmp/results.txt BENCH_DIR=$tmp
    median_run single 3
    median_run accept 3
    median_run bare 3
) || not_ok "median_run failed"
expect single_median_run 3
expect single_p99_ms 18.5
expect cpu_single_wrk 0.25
expect single_runs_accepted_s "10500 8000 9000"
expect single_all_accepted 825000
expect single_all_stored 824999
expect accept_median_run 1
expect bare_all_stored 905000

echo 'wrk …' >"$tmp/commands.txt"
if /usr/bin/python3 -B bench/report.py "$tmp/results.txt" "$tmp/commands.txt" "$tmp/out.md" >/dev/null; then
    ok "report.py renders made-up results"
else
    not_ok "report.py failed"
fi
row() { grep -F "| $1" "$tmp/out.md"; }
row "single pings accepted/s (median of 3 runs of 30 s: 10,500 / 8,000 / 9,000;" | grep -qF '| 9,000 /s |' &&
    ok "the accepted rate is the median run's, beside every run's" ||
    not_ok "single pings row: $(row 'single pings accepted/s')"
row "single: stored = accepted (all 3 runs) | 824999 = 825000 |" | grep -qF '**missed**' &&
    ok "a ping missing in any run is a miss" || not_ok "stored = accepted row: $(row 'single: stored')"
row "udc-writer RSS idle / under load | 11.0 MB / 70.5 MB |" | grep -qF '**missed**' &&
    ok "the footprint is the largest of every run" || not_ok "writer row: $(row 'udc-writer RSS')"
row "single pings accepted with udc-writer replaced by a consumer that stores nothing" |
    grep -qF 'median of 3 runs: 13,500 / 12,000 / 14,000; p99 9.40 ms) | 13,500 /s |' &&
    ok "the accept side's ceiling is its median run, beside every run's" ||
    not_ok "accept ceiling row: $(row 'single pings accepted with')"
row "single, nothing stored | 0.00 | 0.05 | 0.00 | 0.00 | 0.00 | 0.01 | 0.00 | 0.06 | 1.34 | 0.58 |" >/dev/null &&
    ok "the accept side's run has its CPU row" ||
    not_ok "accept CPU row: $(row 'single, nothing stored')"
row "single pings accepted and stored by udc-writer into a table with only the key" |
    grep -qF '10,200 / 9,000 / 11,000; p99 15.1 ms; stored 905000 of 906000) | 10,200 /s |' &&
    ok "the storing ceiling has its row" || not_ok "storing ceiling row: $(row 'single pings accepted and stored')"
row "single, read indexes left out | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 | 0.20 | 0.00 | 0.20 | 1.40 | 0.38 |" >/dev/null &&
    ok "the storing ceiling's run has its CPU row" ||
    not_ok "bare CPU row: $(row 'single, read indexes left out')"
grep -qF 'Single pings run 3 times' "$tmp/out.md" && ok "the method names the number of single-ping runs" ||
    not_ok "method: $(grep -o 'Single pings run [^(]*' "$tmp/out.md")"
