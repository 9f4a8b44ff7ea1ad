--[[
  What became of an RCPT reserved with answers reported (takeRcpt-3.lua, ARGV[7] = '1'): the time
  the host is known to have seen it by, for the answered window.
  - answered: now (the host counts an RCPT before it answers it);
  - unanswered (the connection broke or timed out after it was written): now + W, since the host
    may still read it;
  - unsent (never written): its slot.
  An RCPT already resolved (its session's lease was gone first) is left alone.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] seq of the RCPT
    ARGV[2] 'answered' | 'unanswered' | 'unsent'
    ARGV[3] W: the window (µs)
    ARGV[4] key TTL (ms)
  Output:
    1  recorded
    0  unknown or already resolved
]]
--- @include "prelude.lua"
--- @include "rcpt-ledger.lua"
local now = now_us()
local k = ARGV[1]
local p = redis.call('HGET', KEYS[2], 'p' .. k)
if not p then return 0 end
local slot, _, rid = pending_fields(p)
local a = now
if ARGV[2] == 'unanswered' then
  a = now + tonumber(ARGV[3])
elseif ARGV[2] == 'unsent' then
  a = slot
end
redis.call('HSET', KEYS[2], 'a' .. k, fmt(a))
drop_pending(k, rid)
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
return 1
