#!/usr/bin/env bash
# The web page in headless Chromium: tests/browser/web.test.mjs against the running stack
# (UDC_API_URL serving the page, UDC_INGEST_URL taking pings). Installs what it needs when
# missing: Debian's chromium, and playwright-core at the version pinned in
# tests/browser/package-lock.json. Screenshots go to build/screenshots/.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=$repo/tests/browser
export DEBIAN_FRONTEND=noninteractive

for var in UDC_API_URL UDC_INGEST_URL; do
    if [ -z "${!var:-}" ]; then
        echo "not ok - $var is set (source the stack's env file)"
        exit 1
    fi
done

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if ! apt-get install -y -q nodejs npm >/dev/null 2>&1; then
        echo "not ok - node and npm are installed"
        exit 1
    fi
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 18 ]; then
    echo "not ok - node is 18 or newer (have $(node --version))"
    exit 1
fi

chromium=${UDC_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    if ! apt-get install -y -q chromium >/dev/null 2>&1 &&
        ! { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; then
        echo "not ok - chromium is installed ($chromium; apt-get install chromium failed)"
        exit 1
    fi
fi

want=$(node -p "require('$dir/package.json').dependencies['playwright-core']")
have=$(node -p "try { require('$dir/node_modules/playwright-core/package.json').version } catch { '' }" 2>/dev/null)
if [ "$have" != "$want" ]; then
    if ! npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null 2>&1 &&
        ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null 2>&1; then
        echo "not ok - playwright-core $want installs from npm"
        exit 1
    fi
fi

UDC_CHROMIUM=$chromium exec node "$dir/web.test.mjs"
