--[[
  Remember final verdicts in one shard of the verdict cache. An address keeps its newest verdict (a
  late writer with an older one changes nothing). Entries older than the longest max age are dropped
  (a few per call: they can never answer again), then the oldest beyond the shard's bound (at most
  1,000 or twice the entries stored, whichever is more, per call: a bound lowered a lot is reached over
  the next writes instead of blocking Redis for one long call).

  Input:
    KEYS[1] the shard's verdicts hash: address -> stored verdict (`<verifiedAt> <json>`, see result-codec.ts)
    KEYS[2] the shard's times sorted set: address -> verifiedAt (ms)
    ARGV[1] most entries the shard keeps
    ARGV[2] seconds both keys live after this write (the longest max age: an abandoned shard goes away)
    ARGV[3] verifiedAt (ms) before which an entry is too old for any class
    ARGV[4..] address, verifiedAt (ms), stored verdict; repeated
  Output:
    { stored, expired, evicted }
]]
local stored = 0
for i = 4, #ARGV, 3 do
  local address, at = ARGV[i], tonumber(ARGV[i + 1])
  local current = redis.call('ZSCORE', KEYS[2], address)
  if not current or tonumber(current) <= at then
    redis.call('HSET', KEYS[1], address, ARGV[i + 2])
    redis.call('ZADD', KEYS[2], at, address)
    stored = stored + 1
  end
end

local function drop(members)
  for j = 1, #members do
    redis.call('HDEL', KEYS[1], members[j])
    redis.call('ZREM', KEYS[2], members[j])
  end
  return #members
end

local expired = drop(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3], 'LIMIT', 0, 100))
local evicted = 0
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[1])
if over > 0 then evicted = drop(redis.call('ZRANGE', KEYS[2], 0, math.min(over, math.max(1000, 2 * stored)) - 1)) end

redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return { stored, expired, evicted }
