#!/usr/bin/env bash
# The throwaway stack's servers as scripts/stack starts them: the RabbitMQ node runs one
# Erlang scheduler (it shares a small machine with everything else; see scripts/stack) and
# its quorum queues' log writes with O_SYNC (schema/rabbitmq/advanced.config), and a
# scheduler count that is not a number is refused before anything starts.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 1
: "${UDC_RUN_DIR:?run through make test}"

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }

schedulers=$(scripts/rabbitmqctl eval 'erlang:system_info(schedulers_online).' 2>&1)
if [ "$schedulers" = 1 ]; then
    ok "the RabbitMQ node runs one scheduler"
else
    not_ok "the RabbitMQ node's schedulers: $schedulers"
fi

# schema/rabbitmq/advanced.config reached the node: the quorum queues' write-ahead log is open
# with O_SYNC (octal 04000000 in the open flags), so a write returns once it is on disk.
strategy=$(scripts/rabbitmqctl eval 'maps:get(wal_write_strategy, ra_system:fetch(quorum_queues)).' 2>&1)
if [ "$strategy" = o_sync ]; then
    ok "the quorum queues' write-ahead log writes with o_sync"
else
    not_ok "the quorum queues' write-ahead log strategy: $strategy"
fi
beam=$(cat "$UDC_RUN_DIR/rabbitmq/rabbitmq.pid" 2>/dev/null)
wal_flags=
for fd in /proc/"$beam"/fd/*; do
    case $(readlink "$fd" 2>/dev/null) in
    */quorum/*.wal) wal_flags=$(awk '/^flags:/ {print $2}' "/proc/$beam/fdinfo/${fd##*/}") ;;
    esac
done
if [ -n "$wal_flags" ] && (((8#$wal_flags & 8#4000000) != 0)); then
    ok "the node's quorum write-ahead log file is open with O_SYNC (flags $wal_flags)"
else
    not_ok "the node's quorum write-ahead log file: open flags '${wal_flags:-not found}'"
fi

out=$(UDC_RABBITMQ_SCHEDULERS=two scripts/stack status 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q 'UDC_RABBITMQ_SCHEDULERS must be' <<<"$out"; then
    ok "scripts/stack refuses a scheduler count that is not a number"
else
    not_ok "scripts/stack with UDC_RABBITMQ_SCHEDULERS=two: exit $rc, said: $out"
fi
