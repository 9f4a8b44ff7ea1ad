--[[
  The host said 421 / 4.7.x "slow down". Halves the effective limits once per cooldown window
  (signals from sessions that were already running when the first one arrived do not halve again),
  (re)starts the cooldown and the recovery clock.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] configured max connections
    ARGV[2] configured emission interval (µs)
    ARGV[3] largest emission interval (µs): the rate floor
    ARGV[4] cooldown (ms)
    ARGV[5] key TTL (ms)
  Output:
    {halved 0|1, conn, iv µs, cooldownUntil µs, now µs}
]]
--- @include "prelude.lua"
local now = now_us()
local cfg_conn = tonumber(ARGV[1])
local cfg_iv = tonumber(ARGV[2])
local max_iv = tonumber(ARGV[3])
local cooldown_us = tonumber(ARGV[4]) * 1000
local ttl = tonumber(ARGV[5])
local st = redis.call('HMGET', KEYS[2], 'conn', 'iv', 'cool', 'lastsig')
local conn = eff_conn(cfg_conn, st[1])
local iv = eff_iv(cfg_iv, st[2])
local lastsig = tonumber(st[4])
local halved = 0
bump('rateLimitedSignals', 1, ttl)
if not lastsig or now >= lastsig + cooldown_us then
  conn = math.max(1, math.floor(conn / 2))
  iv = math.max(cfg_iv, math.min(max_iv, iv * 2))
  halved = 1
  redis.call('HSET', KEYS[2], 'conn', fmt(conn), 'iv', fmt(iv), 'lastsig', fmt(now))
  bump('rateLimitHalvings', 1, ttl)
end
local cool = math.max(tonumber(st[3]) or 0, now + cooldown_us)
redis.call('HSET', KEYS[2], 'cool', fmt(cool), 'step', fmt(now))
redis.call('PEXPIRE', KEYS[2], ttl)
return {halved, conn, fmt(iv), fmt(cool), fmt(now)}
