--[[
  Take a session slot without waiting: refused while the circuit is open, during a cooldown, or
  when the group's effective number of leases is live (expired leases are dropped first).

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] leaseId
    ARGV[2] lease duration (ms)
    ARGV[3] configured max connections
    ARGV[4] most ms to suggest waiting when busy
    ARGV[5] key TTL (ms)
  Output:
    {1, leaseId}                              granted (also when the same lease asks again)
    {0, 'open', retryInMs, evidence or ''}    refused: circuit open (evidence of a permanent refusal, see blocked-3.lua)
    {0, 'cooldown'|'busy', retryInMs}         refused
]]
--- @include "prelude.lua"
local now = now_us()
local lease_id = ARGV[1]
local lease_ms = tonumber(ARGV[2])
local ttl = tonumber(ARGV[5])
local st = redis.call('HMGET', KEYS[2], 'conn', 'cool', 'open', 'perm')
local open_until = tonumber(st[3])
if open_until and now < open_until then
  bump('openRefusals', 1, ttl)
  return {0, 'open', ceil_ms(open_until - now), st[4] or ''}
end
local cool_until = tonumber(st[2])
if cool_until and now < cool_until then
  bump('cooldownRefusals', 1, ttl)
  return {0, 'cooldown', ceil_ms(cool_until - now)}
end
local reclaimed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now))
if reclaimed > 0 then bump('leasesReclaimed', reclaimed, ttl) end
local expiry = fmt(now + lease_ms * 1000)
local lease_ttl = math.max(ttl, lease_ms)
if redis.call('ZSCORE', KEYS[1], lease_id) then
  -- the same lease asked again (a retried call whose reply was lost): extend, do not count twice
  redis.call('ZADD', KEYS[1], expiry, lease_id)
  redis.call('PEXPIRE', KEYS[1], lease_ttl)
  return {1, lease_id}
end
local limit = eff_conn(tonumber(ARGV[3]), st[1])
if redis.call('ZCARD', KEYS[1]) >= limit then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = math.min(tonumber(ARGV[4]), ceil_ms(tonumber(first[2]) - now))
  bump('busyRefusals', 1, ttl)
  return {0, 'busy', wait}
end
redis.call('ZADD', KEYS[1], expiry, lease_id)
redis.call('PEXPIRE', KEYS[1], lease_ttl)
bump('acquired', 1, ttl)
return {1, lease_id}
