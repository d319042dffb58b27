-- bench/post_bodies.lua — wrk script of `scripts/bench`: POSTs the bodies of a file (one per
-- line, from `scripts/gen-data emit json|batch`), each thread from its own offset, round-robin.
--
-- Environment:
--   BENCH_BODIES     the file (required)
--   BENCH_MAX_LINES  read at most this many lines (default 20000)
--   BENCH_STAMP=1    replace every creation_time with the wall-clock time of sending (µs),
--                    so that the database's received_at - creation_time is the lag from
--                    request to stored row
--   BENCH_DELAY_MS   wait this long before each request of a connection (rate limiting)
--   BENCH_OUT        write a JSON summary there (requests, errors, latency percentiles in µs)
--   BENCH_METHOD     GET instead of POST (bodies then unused; for read benchmarks)
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_usec; } udc_timeval;
int gettimeofday(udc_timeval *tv, void *tz);
]]

local threads = {}
local thread_count = 0

function setup(thread)
    thread:set("index", thread_count)
    thread_count = thread_count + 1
    table.insert(threads, thread)
end

local bodies = {}
local stamp = os.getenv("BENCH_STAMP") == "1"
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
local method = os.getenv("BENCH_METHOD") or "POST"
local next_body = 1
local tv = ffi.new("udc_timeval")
local last_sec, sec_text = -1, ""

local function now_text()
    ffi.C.gettimeofday(tv, nil)
    local sec = tonumber(tv.tv_sec)
    if sec ~= last_sec then
        last_sec = sec
        sec_text = os.date("!%Y-%m-%dT%H:%M:%S", sec)
    end
    return string.format("%s.%06dZ", sec_text, tonumber(tv.tv_usec))
end

function init(args)
    if method == "GET" then
        return
    end
    local path = assert(os.getenv("BENCH_BODIES"), "BENCH_BODIES not set")
    local max = tonumber(os.getenv("BENCH_MAX_LINES") or "20000")
    for line in io.lines(path) do
        if #line > 0 then
            if stamp then
                -- split around the creation_time values: parts joined by "now" at send time
                local parts, pos = {}, 1
                while true do
                    local s, e = string.find(line, '"creation_time":"[^"]*"', pos)
                    if not s then break end
                    table.insert(parts, string.sub(line, pos, s - 1) .. '"creation_time":"')
                    pos = e
                end
                table.insert(parts, string.sub(line, pos))
                table.insert(bodies, parts)
            else
                table.insert(bodies, line)
            end
            if #bodies >= max then break end
        end
    end
    assert(#bodies > 0, "no bodies in " .. path)
    next_body = 1 + (index or 0) * 7919 % #bodies
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    if method == "GET" then
        return wrk.format("GET")
    end
    local b = bodies[next_body]
    next_body = next_body % #bodies + 1
    if stamp then
        b = table.concat(b, now_text())
    end
    return wrk.format(nil, nil, nil, b)
end

if delay_ms then
    function delay()
        return delay_ms
    end
end

function done(summary, latency, requests)
    local out = os.getenv("BENCH_OUT")
    if not out then return end
    local e = summary.errors
    local f = assert(io.open(out, "w"))
    f:write(string.format(
        '{"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
        '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
        '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
        summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
        e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.max, latency.mean))
    f:close()
end
