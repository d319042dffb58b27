#!/usr/bin/env bash
# Every daemon's systemd unit passes `systemd-analyze verify` with no output at all.
# The units name /usr/bin/udc-NAME; verify a copy that points at the built binary instead,
# since verify insists that ExecStart= exists and is executable.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=${UDC_BIN_DIR:-$repo/build/bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

units=("$repo"/daemons/*/udc-*.service)
if [ ! -e "${units[0]}" ]; then
    echo "not ok - no systemd units found under daemons/"
    exit 1
fi
for unit in "${units[@]}"; do
    name=$(basename "$unit")
    daemon=${name%.service}
    if [ ! -x "$bin_dir/$daemon" ]; then
        echo "not ok - $name: $bin_dir/$daemon is not built"
        continue
    fi
    sed "s#/usr/bin/$daemon#$bin_dir/$daemon#g" "$unit" >"$tmp/$name"
    out=$(cd "$tmp" && systemd-analyze verify "./$name" 2>&1)
    if [ $? -eq 0 ] && [ -z "$out" ]; then
        echo "ok - $name verifies cleanly"
    else
        echo "not ok - $name: $out"
    fi
    for key in Type=notify WatchdogSec= Restart=on-failure ExecReload= NoNewPrivileges=yes \
        ProtectSystem=strict PrivateTmp=yes DynamicUser=yes; do
        if grep -q "^$key" "$unit"; then
            echo "ok - $name sets $key"
        else
            echo "not ok - $name lacks $key"
        fi
    done
done
