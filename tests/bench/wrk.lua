-- tests/bench/wrk.lua: the requests of one benchmark case, for wrk.
--
-- Set by tests/bench/bench.js through the environment:
--   BENCH_METHOD   the method (GET)
--   BENCH_BODY     the body; "{uniq}" in it becomes an identifier no other
--                  request of the run has (register, prepare_register_device)
--   BENCH_GROUPS   a file of group ids, one a line; "{gid}" in the path
--                  becomes the next one, so that no two requests of the run
--                  ask about the same group (BENCH_GROUP_FROM: the first
--                  line to use, BENCH_THREADS: wrk's -t)
--   BENCH_RUN      a word unique to the run, in every identifier
--   BENCH_OUT      where done() writes the figures, as one JSON object
-- Headers come from wrk's -H. A request without "{uniq}" or "{gid}" is
-- made once and sent again and again, as wrk does without a script.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local groups_file = os.getenv("BENCH_GROUPS")
local uniq = body ~= nil and body:find("{uniq}", 1, true) ~= nil
local threads = {}

wrk.method = method
wrk.body = body

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

function init(args)
  prefix = string.format("%s-%d-", os.getenv("BENCH_RUN") or "bench", tid)
  counter = 0
  wrapped = 0
  sent = 0
  if groups_file then
    gids = {}
    for line in io.lines(groups_file) do
      gids[#gids + 1] = line
    end
    step = tonumber(os.getenv("BENCH_THREADS") or "1")
    first = tonumber(os.getenv("BENCH_GROUP_FROM") or "1") + tid - 1
    if first > #gids then
      first, wrapped = tid, 1
    end
    next_gid = first
  end
end

if uniq or groups_file then
  local path_template = wrk.path
  function request()
    local path, b = path_template, body
    if uniq then
      counter = counter + 1
      b = body:gsub("{uniq}", prefix .. counter, 1)
    end
    if groups_file then
      sent = sent + 1
      if next_gid > #gids then
        next_gid, wrapped = first, wrapped + 1
      end
      path = path_template:gsub("{gid}", gids[next_gid], 1)
      next_gid = next_gid + step
    end
    return wrk.format(method, path, wrk.headers, b)
  end
end

function done(summary, latency, requests)
  -- group_span: how far into the group list the run went (requests sent,
  -- answered or not, times the threads' step), for the next run to start past it
  local wraps, most = 0, 0
  for _, t in ipairs(threads) do
    wraps = wraps + (t:get("wrapped") or 0)
    most = math.max(most, t:get("sent") or 0)
  end
  local e = summary.errors
  local f = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  f:write(string.format('{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d},' ..
    '"group_wraps":%d,"group_span":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, wraps, most * #threads))
  f:close()
end
