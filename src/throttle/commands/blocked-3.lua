--[[
  Ban signs: open (or extend) the circuit; keeps the first opening time of the episode.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] open time (ms)
    ARGV[2] key TTL (ms)
  Output:
    {1, openedAt µs, openUntil µs, now µs}
]]
--- @include "prelude.lua"
local now = now_us()
local ttl = tonumber(ARGV[2])
bump('blockedSignals', 1, ttl)
local st = redis.call('HMGET', KEYS[2], 'open', 'opened')
local open_until = math.max(tonumber(st[1]) or 0, now + tonumber(ARGV[1]) * 1000)
local opened = tonumber(st[2]) or now
redis.call('HSET', KEYS[2], 'open', fmt(open_until), 'opened', fmt(opened))
redis.call('PEXPIRE', KEYS[2], ttl)
return {1, fmt(opened), fmt(open_until), fmt(now)}
