-- wrk script of bench/http.py: one endpoint, requests rotating over many projects.
--
--   wrk -t1 -c32 -d5s --latency -s bench/http.lua http://127.0.0.1:PORT -- METHOD PATH TOKEN IDS BODY [PREFER]
--
-- PATH may contain "{id}", replaced in turn by each of IDS (comma-separated), so that concurrent
-- clients work on different projects (each event locks its project's row). TOKEN ("" for none) is
-- sent as a bearer token; BODY ("" for none) as application/json; PREFER, when given, as the Prefer
-- header (RFC 7240, e.g. "return=minimal"). Every request is built once in
-- init(). done() prints one line "WRK {json}" with the figures bench/http.py reads; a response
-- that is not 2xx (e.g. 409, an event the rules refused) counts in "non2xx", not as a success.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local method, path, token, ids, body, prefer = args[1], args[2], args[3], args[4], args[5], args[6]
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if prefer ~= nil and prefer ~= "" then headers["Prefer"] = prefer end
  if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
  reqs = {}
  for id in string.gmatch(ids, "%d+") do
    reqs[#reqs + 1] = wrk.format(method, (string.gsub(path, "{id}", id)), headers, body)
  end
  if #reqs == 0 then reqs[1] = wrk.format(method, path, headers, body) end
  n = #reqs
  i = tid * 7 % n  -- threads start at different projects
  non2xx = 0
  first = ""
end

function request()
  i = i % n + 1
  return reqs[i]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first == "" then first = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

local function quote(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
  local bad, first_bad = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    if first_bad == "" then first_bad = t:get("first") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, ' ..
    '"max_us": %d, "non2xx": %d, "socket_errors": %d, "timeouts": %d, "first_non2xx": %s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, bad, e.connect + e.read + e.write, e.timeout, quote(first_bad)))
end
