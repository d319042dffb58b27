#!/usr/bin/env bash
# Daemon life cycle against the throwaway stack: `-t` refuses a misspelt key naming file and
# line; SIGHUP reloads; SIGTERM drains and exits 0; valgrind finds no leak on the shutdown
# path. Each daemon runs as a second copy on its own ports beside the stack's.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
: "${UDC_RUN_DIR:?run through make test}"
# shellcheck disable=SC1091
. "$UDC_RUN_DIR/env"
bin=$repo/build/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }

free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 10000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

# --- -t ----------------------------------------------------------------------------------
cp udaconnect.conf "$tmp/bad.conf"
line=$(grep -n 'batch_size' "$tmp/bad.conf" | head -1 | cut -d: -f1)
sed -i "${line}s/batch_size/batch_sise/" "$tmp/bad.conf"
for main in daemons/*/main.c; do
    name=udc-$(basename "$(dirname "$main")")
    d=$bin/$name
    out=$("$d" -t -c "$tmp/bad.conf" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && grep -q "$tmp/bad.conf:$line:.*batch_sise" <<<"$out"; then
        ok "$name -t refuses a misspelt key with file and line"
    else
        not_ok "$name -t on a misspelt key: exit $rc, said: $out"
    fi
    if "$d" -t -c udaconnect.conf 2>/dev/null; then
        ok "$name -t accepts the sample configuration"
    else
        not_ok "$name -t refuses the sample configuration"
    fi
done

# --- a second copy of a daemon under valgrind: ready, reload, drain, exit 0, no leak --------
# daemon, env overrides for its ports, ready URL path variable
run_copy() { # name port_var amqp_url_var needs_db
    local name=$1 port_var=$2 amqp_var=$3 needs_db=$4 port log pid ready=0
    port=$(free_port)
    log=$tmp/$name.log
    local env=(env -i PATH="$PATH" UDC_CONFIG="$UDC_CONFIG" "$port_var=127.0.0.1:$port"
        UDC_AMQP_URL="${!amqp_var}")
    [ "$needs_db" = db ] && env+=(UDC_DB_PASSWORD="$UDC_DB_PASSWORD")
    "${env[@]}" valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=99 --log-file="$tmp/$name.vg" "$bin/udc-$name" 2>"$log" &
    pid=$!
    for _ in $(seq 1 200); do
        if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then ready=1; break; fi
        sleep 0.2
    done
    [ $ready = 1 ] && ok "udc-$name under valgrind becomes ready" ||
        not_ok "udc-$name under valgrind never became ready: $(tail -5 "$log")"
    if [ "$name" = ingest-http ]; then
        for i in 1 2 3; do
            curl -fsS -H 'Content-Type: application/json' \
                -d '{"person_id":1,"latitude":1,"longitude":1,"creation_time":"2021-01-01T00:00:00Z"}' \
                "http://127.0.0.1:$port/api/locations" >/dev/null || not_ok "ping $i not accepted"
        done
    fi
    curl -fsS "http://127.0.0.1:$port/metrics" | grep -q '^# TYPE' &&
        ok "udc-$name serves /metrics" || not_ok "udc-$name /metrics"
    kill -HUP "$pid"
    # Under valgrind a daemon busy in a statement or a connect can take seconds to get to it.
    for _ in $(seq 1 50); do
        grep -q 'configuration reloaded' "$log" && break
        sleep 0.2
    done
    grep -q 'configuration reloaded' "$log" && ok "udc-$name reloads on SIGHUP" ||
        not_ok "udc-$name did not reload on SIGHUP"
    kill -TERM "$pid"
    wait "$pid"
    local rc=$?
    [ $rc -eq 0 ] && ok "udc-$name drains and exits 0 on SIGTERM" ||
        not_ok "udc-$name exit status $rc after SIGTERM: $(tail -3 "$log"; cat "$tmp/$name.vg")"
    if grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]|Invalid (read|write)' "$tmp/$name.vg"; then
        not_ok "valgrind on udc-$name: $(head -40 "$tmp/$name.vg")"
    else
        ok "valgrind finds no leak in udc-$name's shutdown path"
    fi
}

[ -x "$bin/udc-writer" ] && run_copy writer UDC_WRITER_ADMIN_LISTEN UDC_AMQP_URL_WRITER db
[ -x "$bin/udc-ingest-http" ] && run_copy ingest-http UDC_INGEST_HTTP_LISTEN UDC_AMQP_URL_INGEST_HTTP -
[ -x "$bin/udc-connector" ] && run_copy connector UDC_CONNECTOR_ADMIN_LISTEN UDC_AMQP_URL_CONNECTOR db
[ -x "$bin/udc-ingest-amqp" ] && run_copy ingest-amqp UDC_INGEST_AMQP_ADMIN_LISTEN UDC_AMQP_URL_INGEST_AMQP -
[ -x "$bin/udc-api" ] && run_copy api UDC_API_LISTEN UDC_AMQP_URL db
exit 0
