--[[
  Change a list's metadata, never creating it: a list whose state is gone (deleted, expired, or
  lost by a Redis restart without persistence) is reported instead of being half re-created.
  Optionally guarded by the list's current status (a cancelled list is never moved back to work),
  and by the value of one field (e.g. `aggregateRun`: only the aggregation run that holds the claim
  may finish the list).

  Input:
    KEYS[1] the list's `meta` hash
    ARGV[1] mode: 'set' (HSET) or 'nx' (HSETNX: keep a field's first value)
    ARGV[2] statuses the list may be in, comma-separated ('' = any)
    ARGV[3] guard field ('' = none)
    ARGV[4] the value the guard field must have
    ARGV[5..] field, value, field, value, ... (none: only the checks)
  Output:
    {1}                       written (or, without fields, the checks passed)
    {0}                       the list has no state
    {2, current status}       the list is not in one of the allowed statuses; nothing written
    {3, current guard value}  the guard field has another value; nothing written
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if ARGV[2] ~= '' then
  local cur = redis.call('HGET', KEYS[1], 'status') or ''
  if not string.find(',' .. ARGV[2] .. ',', ',' .. cur .. ',', 1, true) then return {2, cur} end
end
if ARGV[3] ~= '' then
  local held = redis.call('HGET', KEYS[1], ARGV[3]) or ''
  if held ~= ARGV[4] then return {3, held} end
end
for i = 5, #ARGV, 2 do
  if ARGV[1] == 'nx' then
    redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return {1}
