-- The wrk script of bench/soak.py: each connection is a reader who, request after request,
-- reads a page (signed in or not), votes, or changes their progress on a resource, in the
-- shares $BENCH_WRK_CONFIG gives (a Lua file returning the configuration, as for wrk.lua).
-- Any answer but 200 counts as bad; done() prints one line, "BENCH_JSON {...}".

local cfg = dofile(os.getenv("BENCH_WRK_CONFIG"))
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

bad, votes, progress, reads, codes = 0, 0, 0, 0, {}
local user = nil
local STATES = { "done", "in_progress", "saved", "clear" }

function init(args)
  user = cfg.users[id % #cfg.users + 1]
  math.randomseed(cfg.seed + id)
end

local function pick(list)
  return list[math.random(#list)]
end

local function form(body)
  return {
    ["Cookie"] = user.cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["HX-Request"] = "true",
  }, "csrfmiddlewaretoken=" .. user.token .. "&" .. body
end

function request()
  local roll = math.random()
  if roll < cfg.vote_share then
    votes = votes + 1
    local headers, body = form("value=" .. (math.random() < 0.7 and "up" or "down"))
    return wrk.format("POST", "/resources/" .. pick(cfg.resources) .. "/vote/", headers, body)
  end
  if roll < cfg.vote_share + cfg.progress_share then
    progress = progress + 1
    local headers, body = form("state=" .. pick(STATES))
    return wrk.format("POST", "/me/progress/" .. pick(cfg.resources) .. "/", headers, body)
  end
  reads = reads + 1
  local headers = {}
  if math.random() < cfg.signed_in_share then
    headers["Cookie"] = user.cookie
  end
  return wrk.format("GET", pick(cfg.reads), headers)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    codes[status] = (codes[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local totals = { bad = 0, votes = 0, progress = 0, reads = 0 }
  local statuses = {}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
    for status, count in pairs(thread:get("codes")) do
      statuses[status] = (statuses[status] or 0) + count
    end
  end
  local bad_statuses = {}
  for status, count in pairs(statuses) do
    table.insert(bad_statuses, string.format('"%d":%d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"bad":%d,'
      .. '"votes":%d,"progress":%d,"reads":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"bad_statuses":{%s}}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    totals.bad, totals.votes, totals.progress, totals.reads,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    table.concat(bad_statuses, ",")
  ))
end
