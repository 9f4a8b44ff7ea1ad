--[[
  A session went fine. One recovery step (+1 connection, rate x1.25) per full step period since the
  last rate-limit signal or step, up to the configured limits. Also ends a "blocked" episode whose
  circuit has closed again.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] configured max connections
    ARGV[2] configured emission interval (µs)
    ARGV[3] recovery step (ms)
    ARGV[4] key TTL (ms)
  Output:
    {steps applied, conn, iv µs, now µs}
]]
--- @include "prelude.lua"
local now = now_us()
local cfg_conn = tonumber(ARGV[1])
local cfg_iv = tonumber(ARGV[2])
local step_us = tonumber(ARGV[3]) * 1000
local ttl = tonumber(ARGV[4])
bump('successes', 1, ttl)
local st = redis.call('HMGET', KEYS[2], 'conn', 'iv', 'step', 'open', 'opened')
if st[5] then
  local open_until = tonumber(st[4])
  if not open_until or now >= open_until then redis.call('HDEL', KEYS[2], 'opened', 'open', 'perm') end
end
if not st[1] and not st[2] then return {0, cfg_conn, fmt(cfg_iv), fmt(now)} end
local conn = eff_conn(cfg_conn, st[1])
local iv = eff_iv(cfg_iv, st[2])
local ref = tonumber(st[3])
if not ref then
  ref = now
  redis.call('HSET', KEYS[2], 'step', fmt(now))
end
local n = math.floor((now - ref) / step_us)
local applied = 0
while applied < n and (conn < cfg_conn or iv > cfg_iv) do
  if conn < cfg_conn then conn = conn + 1 end
  if iv > cfg_iv then iv = math.max(cfg_iv, math.ceil(iv * 0.8)) end
  applied = applied + 1
end
if conn >= cfg_conn and iv <= cfg_iv then
  redis.call('HDEL', KEYS[2], 'conn', 'iv', 'step')
elseif applied > 0 then
  redis.call('HSET', KEYS[2], 'conn', fmt(conn), 'iv', fmt(iv), 'step', fmt(ref + applied * step_us))
end
if applied > 0 then bump('recoverySteps', applied, ttl) end
redis.call('PEXPIRE', KEYS[2], ttl)
return {applied, conn, fmt(iv), fmt(now)}
