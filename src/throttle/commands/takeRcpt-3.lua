--[[
  RCPT pacing of a group. Two rules decide the slot s_k of the group's k-th RCPT:
  - GCRA with burst tolerance 0 on an exact schedule: s_k >= TAT, then TAT = s_k + T (T: the
    emission interval), so RCPTs are evenly spaced and slots are never lost to polling;
  - the answered window: s_k >= A(k - R) + W, where R is the number of RCPTs the host allows per
    window W (1 s) and A(m) the latest time at which an RCPT up to the m-th was known to be seen by
    the host: its answer arrived (ackRcpt-3.lua), or its slot when the caller does not report
    answers. A host counts an RCPT between its arrival and its answer, and the (k-R)-th ... k-th RCPTs
    then lie at least W apart as the host counts them, however late each one travelled (event
    loops, network, a busy host). An RCPT whose answer is outstanding while its session's lease is
    live holds the slots R places later back; one whose lease is gone counts as answered now.
  Mode `take`: granted only when the slot is now, otherwise nothing is consumed (ask again after
  the wait). Mode `reserve`: the next slot is taken however far ahead; the caller sends at it.

  Ledger of the answered window (fields of the state hash): seq = RCPTs given a slot so far,
  fl = every RCPT up to fl is resolved; p<k>, q<rid> = an RCPT whose answer is awaited (see
  includes/rcpt-ledger.lua), a<k> = answer time of an RCPT above fl, m<k> = A(k) for the last R
  resolved ones.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] configured emission interval (µs)
    ARGV[2] key TTL (ms)
    ARGV[3] leaseId of the session, or '' (feeds the rcptLeaseLost counter; needed to report answers)
    ARGV[4] mode: 'take' | 'reserve'
    ARGV[5] R: RCPTs the host allows per window (configured, >= 1)
    ARGV[6] W: the window (µs)
    ARGV[7] '1': the caller reports the answer (ackRcpt-3.lua, by seq); '0': it counts as seen at its slot
    ARGV[8] how long to suggest waiting for an outstanding answer (µs)
    ARGV[9] id of this request (unique per reservation asked for; with ARGV[7] = '1')
    ARGV[10] how long after its slot an unreported answer counts as lost (µs)
  Output:
    {1, waitUs, now µs, seq}  granted: send RCPT number seq after waitUs (0 in mode take); a repeated
                              request id gets its first reservation again
    {0, waitUs, now µs, 0}    not granted, nothing consumed: ask again after waitUs
]]
--- @include "prelude.lua"
--- @include "rcpt-ledger.lua"
local now = now_us()
local ttl = tonumber(ARGV[2])
local lease = ARGV[3]
local mode = ARGV[4]
local R = tonumber(ARGV[5])
local W = tonumber(ARGV[6])
local reports = ARGV[7] == '1' and lease ~= ''
local rid = ARGV[9]
if reports then
  local again = redis.call('HGET', KEYS[2], 'q' .. rid)
  local p = again and redis.call('HGET', KEYS[2], 'p' .. again)
  if p then
    local slot = pending_fields(p)
    bump('rcptRequestsRepeated', 1, tonumber(ARGV[2]))
    return {1, fmt(math.max(0, slot - now)), fmt(now), tonumber(again)}
  end
end
local st = redis.call('HMGET', KEYS[2], 'tat', 'iv', 'seq', 'fl')
local seq = tonumber(st[3]) or 0
local fl = tonumber(st[4]) or 0
if fl > seq then fl = seq end

-- Resolve RCPTs in order as far as their answers (or their sessions' ends) allow.
local function advance()
  local m = tonumber(redis.call('HGET', KEYS[2], 'm' .. fl)) or 0
  while fl < seq do
    local k = fl + 1
    local a = tonumber(redis.call('HGET', KEYS[2], 'a' .. k))
    if not a then
      local p = redis.call('HGET', KEYS[2], 'p' .. k)
      if p then
        local slot, owner, prid, deadline = pending_fields(p)
        local exp = tonumber(redis.call('ZSCORE', KEYS[1], owner))
        -- its session is alive and the answer not overdue: it will come
        if exp and exp > now and (deadline == nil or deadline > now) then break end
        a = math.max(now, slot)
        bump('rcptAnswersLost', 1, ttl)
        drop_pending(k, prid)
      else
        a = 0 -- no record of it (state lost): nothing to wait for
      end
    end
    if a > m then m = a end
    redis.call('HSET', KEYS[2], 'm' .. k, fmt(m))
    redis.call('HDEL', KEYS[2], 'a' .. k, 'm' .. (k - R))
    fl = k
  end
  redis.call('HSET', KEYS[2], 'fl', fl)
end

if fl < seq then advance() end
local k = seq + 1
local bound = 0
if k - R >= 1 then
  if fl < k - R then
    bump('rcptAnswerWaits', 1, ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
    return {0, ARGV[8], fmt(now), 0}
  end
  local mv = tonumber(redis.call('HGET', KEYS[2], 'm' .. (k - R))) or tonumber(redis.call('HGET', KEYS[2], 'm' .. fl)) or 0
  bound = mv + W
end
local slot = math.max(now, tonumber(st[1]) or 0, bound)
if mode == 'take' and slot > now then
  bump('rcptWaits', 1, ttl)
  return {0, fmt(slot - now), fmt(now), 0}
end
local iv = eff_iv(tonumber(ARGV[1]), st[2])
redis.call('HSET', KEYS[2], 'tat', fmt(slot + iv), 'seq', k)
seq = k
if reports then
  redis.call('HSET', KEYS[2], 'p' .. k, fmt(slot) .. ' ' .. lease .. ' ' .. rid .. ' ' .. fmt(slot + tonumber(ARGV[10])), 'q' .. rid, k)
else
  redis.call('HSET', KEYS[2], 'a' .. k, fmt(slot))
  if fl == k - 1 then advance() end
end
redis.call('PEXPIRE', KEYS[2], ttl)
bump('rcptTaken', 1, ttl)
if slot > now then bump('rcptWaits', 1, ttl) end
if lease ~= '' then
  local s = redis.call('ZSCORE', KEYS[1], lease)
  if not s or tonumber(s) <= now then bump('rcptLeaseLost', 1, ttl) end
end
return {1, fmt(slot - now), fmt(now), k}
