--[[
  Give a session slot back.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] leaseId
    ARGV[2] key TTL (ms)
  Output:
    1  released
    0  it was not held any more
]]
--- @include "prelude.lua"
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then bump('released', 1, tonumber(ARGV[2])) end
return removed
