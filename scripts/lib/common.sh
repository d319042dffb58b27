# scripts/lib/common.sh — shared helpers of the local-stack scripts (sourced, not run).
#
# Sets UDC_REPO (the checkout) and UDC_RUN_DIR (default <repo>/run; the folder holding the
# private servers' data, secrets, logs and the generated env file) and provides messages,
# port helpers and secret handling. Callers set PROG to their name before sourcing.

UDC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
UDC_DEFAULT_RUN_DIR=$UDC_REPO/run
UDC_RUN_DIR=${UDC_RUN_DIR:-$UDC_DEFAULT_RUN_DIR}
PROG=${PROG:-$(basename "$0")}

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

require_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (it starts servers as the postgres user)"
}

require_commands() { # cmd...
    local cmd missing=()
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    [ ${#missing[@]} -eq 0 ] || die "missing commands: ${missing[*]} (run scripts/deps)"
}

# Absolute form of UDC_RUN_DIR, created if needed; everything below uses the absolute path
# because servers and the env file must not depend on the caller's working directory.
resolve_run_dir() {
    mkdir -p -- "$UDC_RUN_DIR" || die "cannot create run folder $UDC_RUN_DIR"
    UDC_RUN_DIR=$(cd -- "$UDC_RUN_DIR" && pwd)
    export UDC_RUN_DIR
}

# Sources $UDC_RUN_DIR/env (written by `scripts/stack up`); dies when the stack never ran.
load_run_env() {
    local env_file=$UDC_RUN_DIR/env
    [ -r "$env_file" ] || die "no $env_file: start the stack first (scripts/stack up)"
    # shellcheck disable=SC1090
    . "$env_file"
    RUN_ENV_NAMES=$(sed -n 's/^export \([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$env_file" | tr '\n' ' ')
}

# --- ports --------------------------------------------------------------------------------

# True when something on this machine listens on TCP port $1 (what would make a server's
# bind fail: the servers set SO_REUSEADDR, so connections in TIME_WAIT do not count).
port_in_use() { # port
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Htln "( sport = :$port )" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

# Who listens on port $1, for error messages.
port_owner() { # port
    if command -v ss >/dev/null 2>&1; then
        ss -Htlnp "( sport = :$1 )" 2>/dev/null | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -n 1
    fi
}

# Picks a free port in [20000, 32000) — below Linux's ephemeral range (32768+), so no
# outgoing connection grabs it later — not in use and not in the space-separated list $1.
# With $2 = N, returns the first of N consecutive free ports.
pick_free_port() { # taken [count]
    local taken=" $1 " count=${2:-1} tries base i ok
    for tries in $(seq 1 200); do
        base=$((20000 + (RANDOM * 32768 + RANDOM) % (12000 - count)))
        ok=1
        for ((i = 0; i < count; i++)); do
            if [[ $taken == *" $((base + i)) "* ]] || port_in_use $((base + i)); then
                ok=0
                break
            fi
        done
        if [ "$ok" -eq 1 ]; then
            echo "$base"
            return 0
        fi
    done
    die "found no free port after 200 tries"
}

# --- secrets ------------------------------------------------------------------------------

# Prints the secret named $1 from $UDC_RUN_DIR/secrets, creating a random one (32 letters
# and digits: safe in URLs, SQL literals and command lines) the first time.
secret() { # name
    local dir=$UDC_RUN_DIR/secrets file value=''
    file=$dir/$1
    if [ ! -s "$file" ]; then
        (umask 077 && mkdir -p -- "$dir")
        chmod 700 -- "$dir"
        while [ ${#value} -lt 32 ]; do
            value+=$(head -c 64 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
        done
        (umask 077 && printf '%s' "${value:0:32}" >"$file.tmp") || die "cannot write $file"
        mv -f -- "$file.tmp" "$file"
    fi
    chmod 600 -- "$file"
    cat -- "$file"
}

# Percent-encodes $1 for use inside a URI (unreserved characters and '/' kept).
uri_encode() { # string
    local LC_ALL=C s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [A-Za-z0-9._~/-]) out+=$c ;;
        *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

# Waits until command "$@" succeeds, polling every 0.2 s for at most $1 seconds.
wait_until() { # timeout_s cmd...
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# True when process $1 exists and has not exited (a zombie awaiting its parent counts as gone).
pid_alive() { # pid
    local stat
    [ -n "$1" ] && stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) } # the command name may contain spaces; the fields after it do not
    [ "${stat%% *}" != Z ]
}
