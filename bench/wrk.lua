-- The wrk script of bench/run.py. It runs with `-t N -c N`: one connection per thread, and
-- each thread is one client with its own user. $BENCH_WRK_CONFIG names a Lua file that returns
-- the endpoint: connections, paths (walked, each thread from its own offset), users ({cookie, token}),
-- headers, method, nocache (a unique parameter per request), vote (a form body with the
-- user's CSRF token, up and down in turn), and for a paced run rate, warmup and duration.
-- done() prints one line, "BENCH_JSON {...}", that run.py reads.

local cfg = dofile(os.getenv("BENCH_WRK_CONFIG"))
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- Globals, so that done() can read them with thread:get().
bad, samples, expected = 0, {}, 0

local ffi = require("ffi")
ffi.cdef([[
  struct bench_timespec { long sec; long nsec; };
  int clock_gettime(int clock, struct bench_timespec *now);
]])
local clock = ffi.new("struct bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.sec) * 1000 + tonumber(clock.nsec) / 1e6
end

local n, user, start, interval, due, sent = 0, nil, 0, 0, 0, 0

function init(args)
  user = cfg.users[id % #cfg.users + 1]
  wrk.method = cfg.method
  for name, value in pairs(cfg.headers) do
    wrk.headers[name] = value
  end
  if user and user.cookie then
    wrk.headers["Cookie"] = user.cookie
  end
  if cfg.rate then
    -- Each connection keeps a schedule of its own, as wrk2 does: a request every
    -- `interval`, the threads staggered, so the server sees `rate` requests a second.
    interval = 1000 * cfg.connections / cfg.rate
    local first = math.ceil(cfg.warmup / interval)
    local last = math.ceil((cfg.warmup + cfg.duration) / interval) - 1
    expected = math.max(0, last - first + 1)
  end
end

function request()
  if cfg.rate and start == 0 then
    -- wrk calls the first thread's request() once before the run to check it; in a paced
    -- run (where delay() comes first) that call is told apart and does not count.
    return wrk.format()
  end
  local path = cfg.paths[(id * 31 + n) % #cfg.paths + 1]
  if cfg.nocache then
    local glue = path:find("?", 1, true) and "&" or "?"
    path = path .. glue .. "nocache=" .. cfg.run .. "-" .. id .. "-" .. n
  end
  local body = nil
  if cfg.vote then
    body = "csrfmiddlewaretoken=" .. user.token .. "&value=" .. (n % 2 == 0 and "up" or "down")
  end
  due = start + n * interval
  sent = now_ms()
  n = n + 1
  return wrk.format(nil, path, nil, body)
end

if cfg.rate then
  -- wrk asks before every request, the first too: the schedule starts there, staggered.
  function delay()
    if start == 0 then
      start = now_ms() + id * interval / cfg.connections
    end
    local next_due = start + n * interval
    if next_due - start >= cfg.warmup + cfg.duration then
      return 3600000 -- the window is over: send nothing more
    end
    return math.max(0, math.ceil(next_due - now_ms()))
  end
end

if cfg.rate or cfg.check then
  function response(status, headers, body)
    if status ~= 200 then
      bad = bad + 1
    end
    if cfg.rate and due - start >= cfg.warmup then
      -- From when the request was due, not when it went out: a server that falls behind
      -- shows its backlog (no "coordinated omission").
      table.insert(samples, now_ms() - math.min(due, sent))
    end
  end
end

local function encode(value)
  if type(value) ~= "table" then
    return tostring(value)
  end
  local parts = {}
  if #value > 0 or next(value) == nil then
    for i, item in ipairs(value) do
      parts[i] = encode(item)
    end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  for key, item in pairs(value) do
    table.insert(parts, string.format("%q:%s", key, encode(item)))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local result = {
    requests = summary.requests,
    duration_us = summary.duration,
    bytes = summary.bytes,
    errors = summary.errors,
    latency_us = {
      p50 = latency:percentile(50),
      p95 = latency:percentile(95),
      p99 = latency:percentile(99),
      max = latency.max,
      mean = latency.mean,
    },
    bad = 0,
    expected = 0,
    samples_ms = {},
  }
  for _, thread in ipairs(threads) do
    result.bad = result.bad + thread:get("bad")
    result.expected = result.expected + thread:get("expected")
    for _, sample in ipairs(thread:get("samples")) do
      table.insert(result.samples_ms, sample)
    end
  end
  io.write("BENCH_JSON ", encode(result), "\n")
end
