--[[
  Extend a lease to `lease duration` from now.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] leaseId
    ARGV[2] lease duration (ms)
    ARGV[3] key TTL (ms)
  Output:
    1  renewed
    0  the lease is gone (expired, reclaimed or released)
]]
--- @include "prelude.lua"
local now = now_us()
local lease_ms = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
local exp = s and tonumber(s)
if not exp or exp <= now then
  if exp then
    redis.call('ZREM', KEYS[1], ARGV[1])
    bump('leasesReclaimed', 1, ttl)
  end
  bump('leasesLost', 1, ttl)
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', fmt(now + lease_ms * 1000), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.max(ttl, lease_ms))
bump('renewed', 1, ttl)
return 1
