--[[
  Ban signs: open (or extend) the circuit; keeps the first opening time of the episode. Also
  remembers whether the circuit was opened by a permanent refusal (a 5xx policy refusal of the
  prober, e.g. a DNSBL listing) and its evidence (the deciding reply, opaque to this script), so that
  addresses refused by the open circuit can end at once with that reply instead of waiting:
  - the circuit was closed: the evidence of this report replaces any earlier one ('' = none);
  - the circuit is open: a permanent refusal is kept; a later one is recorded only if none was.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] open time (ms)
    ARGV[2] key TTL (ms)
    ARGV[3] evidence of a permanent refusal, or '' (a sign that may pass: 421, 4xx)
  Output:
    {1, openedAt µs, openUntil µs, now µs, evidence or ''}
]]
--- @include "prelude.lua"
local now = now_us()
local ttl = tonumber(ARGV[2])
local evidence = ARGV[3]
bump('blockedSignals', 1, ttl)
local st = redis.call('HMGET', KEYS[2], 'open', 'opened', 'perm')
local was_open = tonumber(st[1]) and now < tonumber(st[1])
local open_until = math.max(tonumber(st[1]) or 0, now + tonumber(ARGV[1]) * 1000)
local opened = tonumber(st[2]) or now
redis.call('HSET', KEYS[2], 'open', fmt(open_until), 'opened', fmt(opened))
local perm = st[3] or ''
if not was_open or perm == '' then perm = evidence end
if perm == '' then
  redis.call('HDEL', KEYS[2], 'perm')
else
  redis.call('HSET', KEYS[2], 'perm', perm)
end
redis.call('PEXPIRE', KEYS[2], ttl)
if evidence ~= '' then bump('permanentRefusals', 1, ttl) end
return {1, fmt(opened), fmt(open_until), fmt(now), perm}
