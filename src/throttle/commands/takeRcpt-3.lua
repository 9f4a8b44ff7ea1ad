--[[
  GCRA with burst tolerance 0: one RCPT TO is allowed iff now >= TAT; then TAT = now + T.
  Not allowed: nothing is consumed.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] configured emission interval (µs)
    ARGV[2] key TTL (ms)
    ARGV[3] leaseId of the session, or '' (only feeds the rcptLeaseLost counter)
  Output:
    {waitMs, now µs}  waitMs 0: granted; > 0: ask again after that long
]]
--- @include "prelude.lua"
local now = now_us()
local ttl = tonumber(ARGV[2])
local st = redis.call('HMGET', KEYS[2], 'tat', 'iv')
local tat = tonumber(st[1])
if tat and now < tat then
  bump('rcptWaits', 1, ttl)
  return {ceil_ms(tat - now), fmt(now)}
end
local iv = eff_iv(tonumber(ARGV[1]), st[2])
redis.call('HSET', KEYS[2], 'tat', fmt(now + iv))
redis.call('PEXPIRE', KEYS[2], ttl)
bump('rcptTaken', 1, ttl)
if ARGV[3] ~= '' then
  local s = redis.call('ZSCORE', KEYS[1], ARGV[3])
  if not s or tonumber(s) <= now then bump('rcptLeaseLost', 1, ttl) end
end
return {0, fmt(now)}
