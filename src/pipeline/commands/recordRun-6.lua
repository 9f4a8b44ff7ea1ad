--[[
  Record one probe run of a batch in one step: its verdicts (final and provisional), its per-MX
  counters, how many of its addresses have a final verdict by status and reason, and why it waits (if
  it does). Nothing is written for a list whose state is gone (deleted, expired, or lost by a Redis
  restart): a run that ends after its list was deleted leaves no key behind.

  The counts are idempotent per batch (a batch run again after a crash replaces its own record), so the
  list's totals are exact: the change against the batch's last record is added to the list's counters
  `final`, `s:<status>`, `r:<reason>` (and `c:<name>` for other counters such as cache hits).

  Input:
    KEYS[1] meta      the list's metadata hash
    KEYS[2] progress  hash: batch id -> its last record
    KEYS[3] results   hash: address -> stored verdict
    KEYS[4] mx        hash: `<host>|<counter>` -> number
    KEYS[5] waits     sorted set: batch id -> next greylist retry (ms)
    KEYS[6] held      hash: batch id -> `<throttle group>|<why>`
    ARGV[1] batch id
    ARGV[2] the batch's record: `name=n` pairs joined by ',' (e.g. `final=3,s:deliverable=2,r:accepted=2`)
    ARGV[3] key TTL (seconds) for the keys written
    ARGV[4] R: number of (address, verdict) pairs
    ARGV[5] M: number of (counter, increment) pairs
    ARGV[6] wait kind: '' (not waiting), 'greylist' or 'throttle'
    ARGV[7] wait value: the retry time (ms) for 'greylist', `<group>|<why>` for 'throttle'
    ARGV[8 .. 7+2R]          address, stored verdict, ...
    ARGV[8+2R .. 7+2R+2M]    `<host>|<counter>`, increment, ...
  Output:
    1  recorded
    0  the list has no state: nothing written
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ttl = tonumber(ARGV[3])
local r = tonumber(ARGV[4])
local m = tonumber(ARGV[5])

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
redis.call('EXPIRE', KEYS[2], ttl)

local first = 8
local last = first + 2 * r - 1
-- verdicts in HSETs of up to 500 pairs (unpack stays well within Lua's stack)
for i = first, last, 1000 do redis.call('HSET', KEYS[3], unpack(ARGV, i, math.min(i + 999, last))) end
if r > 0 then redis.call('EXPIRE', KEYS[3], ttl) end
first = first + 2 * r
for i = first, first + 2 * m - 1, 2 do redis.call('HINCRBY', KEYS[4], ARGV[i], tonumber(ARGV[i + 1])) end
if m > 0 then redis.call('EXPIRE', KEYS[4], ttl) end

if ARGV[6] == 'greylist' then
  redis.call('ZADD', KEYS[5], ARGV[7], ARGV[1])
  redis.call('HDEL', KEYS[6], ARGV[1])
  redis.call('EXPIRE', KEYS[5], ttl)
elseif ARGV[6] == 'throttle' then
  redis.call('HSET', KEYS[6], ARGV[1], ARGV[7])
  redis.call('ZREM', KEYS[5], ARGV[1])
  redis.call('EXPIRE', KEYS[6], ttl)
end
return 1
