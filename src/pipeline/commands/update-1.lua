--[[
  Change a list's metadata, never creating it: a list whose state is gone (deleted, expired, or
  lost by a Redis restart without persistence) is reported instead of being half re-created.
  Optionally guarded by the list's current status (a cancelled list is never moved back to work).

  Input:
    KEYS[1] the list's `meta` hash
    ARGV[1] mode: 'set' (HSET) or 'nx' (HSETNX: keep a field's first value)
    ARGV[2] statuses the list may be in, comma-separated ('' = any)
    ARGV[3..] field, value, field, value, ...
  Output:
    {1}                  written
    {0}                  the list has no state
    {2, current status}  the list is not in one of the allowed statuses; nothing written
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if ARGV[2] ~= '' then
  local cur = redis.call('HGET', KEYS[1], 'status') or ''
  if not string.find(',' .. ARGV[2] .. ',', ',' .. cur .. ',', 1, true) then return {2, cur} end
end
for i = 3, #ARGV, 2 do
  if ARGV[1] == 'nx' then
    redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return {1}
