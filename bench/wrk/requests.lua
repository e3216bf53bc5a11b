-- wrk's request generator for bench/wrk.ts, one thread (wrk -t1), as
-- bench/load.ts is autocannon's. Environment:
--   TOKENS  the seed's tokens file, one per line
--   MODE    logout: POST with the token as Bearer and body, as a client logging out would
--           me:     GET /api/v1/auth/me with the Bearer token
--   FROM    the first line to use (0-based)
--   POOL    0: every request takes the next line, never used before (logout);
--           N: rotate over N lines from FROM (/me, and the bare baseline, which revokes nothing)
--   SEED    optional, with POOL > 0: rotate in the order of a shuffle seeded
--           with it (LuaJIT's generator: the same order for the same seed)
local mode = os.getenv("MODE")
local from = tonumber(os.getenv("FROM"))
local pool = tonumber(os.getenv("POOL"))
local seed = tonumber(os.getenv("SEED") or "")
local tokens = {}
local i = 0

-- In the thread's own Lua state only (not the main one, which never sends):
-- a file of a million tokens is read once, before wrk starts its clock.
init = function(args)
  local n = 0
  for line in io.lines(os.getenv("TOKENS")) do
    if n >= from and (pool == 0 or n < from + pool) then tokens[#tokens + 1] = line end
    n = n + 1
  end
  if pool > 0 and #tokens < pool then error("the tokens file has fewer than FROM + POOL lines") end
  if seed ~= nil and pool > 0 then
    math.randomseed(seed)
    for k = #tokens, 2, -1 do
      local j = math.random(k)
      tokens[k], tokens[j] = tokens[j], tokens[k]
    end
  end
end

request = function()
  local t
  if pool == 0 then t = tokens[i + 1] else t = tokens[(i % pool) + 1] end
  i = i + 1
  if t == nil then error("out of fresh tokens") end
  if mode == "me" then
    return wrk.format("GET", "/api/v1/auth/me", { ["Authorization"] = "Bearer " .. t })
  end
  return wrk.format("POST", "/api/v1/auth/logout",
    { ["Authorization"] = "Bearer " .. t, ["Content-Type"] = "application/json" },
    '{"token":"' .. t .. '"}')
end

-- One JSON line for bench/wrk.ts.
done = function(summary, latency)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"us":%d,"p50":%.3f,"p99":%.3f,"non2xx":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
