--[[
  Read-only: the circuit of a group.

  Input:
    KEYS[1] leases, KEYS[2] state, KEYS[3] stats (see includes/prelude.lua)
  Output:
    {open 0|1, openedAt µs or '', openUntil µs or '', now µs, evidence of a permanent refusal or ''}
]]
--- @include "prelude.lua"
local now = now_us()
local st = redis.call('HMGET', KEYS[2], 'open', 'opened', 'perm')
local open_until = tonumber(st[1])
local is_open = 0
if open_until and now < open_until then is_open = 1 end
return {is_open, st[2] or '', st[1] or '', fmt(now), st[3] or ''}
