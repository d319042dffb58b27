#!/usr/bin/env bash
# The throwaway stack's servers as scripts/stack starts them: the RabbitMQ node runs one
# Erlang scheduler (it shares a small machine with everything else; see scripts/stack), and
# a scheduler count that is not a number is refused before anything starts.
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

out=$(UDC_RABBITMQ_SCHEDULERS=two scripts/stack status 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q 'UDC_RABBITMQ_SCHEDULERS must be' <<<"$out"; then
    ok "scripts/stack refuses a scheduler count that is not a number"
else
    not_ok "scripts/stack with UDC_RABBITMQ_SCHEDULERS=two: exit $rc, said: $out"
fi
