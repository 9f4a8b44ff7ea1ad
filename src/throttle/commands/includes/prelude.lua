--[[
  Shared by every throttle command. Keys of ONE group (same Redis Cluster hash tag):
    KEYS[1] leases  ZSET  leaseId -> expiry (µs, Redis clock)
    KEYS[2] state   HASH  tat       GCRA theoretical arrival time of the next RCPT (µs)
                          conn, iv  reduced effective limits (absent = the configured ones);
                                    iv is the emission interval in µs, so fractional rates work
                          cool      cooldown end (µs)           lastsig  last halving (µs)
                          step      recovery reference time (µs)
                          open      circuit open until (µs)     opened   when the circuit first opened (µs)
                          perm      evidence of the permanent refusal that opened the circuit (absent: none)
    KEYS[3] stats   HASH  counters (HINCRBY)

  All times come from TIME in microseconds (~1.7e15 < 2^53, exact in a Lua double) and are stored
  with %.0f (tostring would keep only 14 significant digits). Every write refreshes the key's TTL
  (the `ttl` argument, ms), so idle groups disappear.
]]
if redis.replicate_commands then redis.replicate_commands() end
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function fmt(n) return string.format('%.0f', n) end
local function ceil_ms(us)
  local ms = math.ceil(us / 1000)
  if ms < 1 then ms = 1 end
  return ms
end
local function bump(field, by, ttl)
  redis.call('HINCRBY', KEYS[3], field, by)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
local function eff_conn(cfg, stored)
  local c = tonumber(stored)
  if c == nil or c > cfg then return cfg end
  return c
end
local function eff_iv(cfg, stored)
  local v = tonumber(stored)
  if v == nil or v < cfg then return cfg end
  return v
end
