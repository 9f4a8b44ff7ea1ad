--[[
  Record how many of a batch's addresses have a final verdict, by status and by reason. Idempotent
  per batch (a batch run again after a crash replaces its own counts), so the list's totals are exact:
  the change against the batch's last record is added to the list's counters.

  Input:
    KEYS[1] the list's `meta` hash: counters `final`, `s:<status>`, `r:<reason>`, `cacheHits`, `cacheLookups`
    KEYS[2] the list's `progress` hash: batch id -> its last record
    ARGV[1] batch id
    ARGV[2] the batch's record: `final|s:<status>=n,...|r:<reason>=n,...` flattened as
            `name=n` pairs separated by ',' (e.g. `final=3,s:deliverable=2,s:unknown=1,r:accepted=2,r:timeout=1`)
  Output:
    1  recorded
    0  the list has no state
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local function parse(s)
  local t = {}
  if s then
    for name, n in string.gmatch(s, '([^,=]+)=(%d+)') do t[name] = tonumber(n) end
  end
  return t
end
local old = parse(redis.call('HGET', KEYS[2], ARGV[1]))
local new = parse(ARGV[2])
for name, n in pairs(new) do
  local d = n - (old[name] or 0)
  if d ~= 0 then redis.call('HINCRBY', KEYS[1], name, d) end
end
for name, n in pairs(old) do
  if new[name] == nil and n ~= 0 then redis.call('HINCRBY', KEYS[1], name, -n) end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
