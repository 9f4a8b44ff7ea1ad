--[[
  Read-only: effective limits, live leases, cooldown and circuit of a group.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
    ARGV[1] configured max connections
    ARGV[2] configured emission interval (µs)
  Output:
    {conn, iv µs, cooldownUntil µs or '', openUntil or '', openedAt or '', activeLeases, now µs, evidence of a permanent refusal or ''}
]]
--- @include "prelude.lua"
local now = now_us()
local st = redis.call('HMGET', KEYS[2], 'conn', 'iv', 'cool', 'open', 'opened', 'perm')
local active = redis.call('ZCOUNT', KEYS[1], '(' .. fmt(now), '+inf')
return {eff_conn(tonumber(ARGV[1]), st[1]), fmt(eff_iv(tonumber(ARGV[2]), st[2])), st[3] or '', st[4] or '', st[5] or '', active, fmt(now), st[6] or ''}
