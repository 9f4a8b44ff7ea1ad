--[[
  The answered window's ledger of outstanding RCPTs (fields of the state hash, see takeRcpt-3.lua):
    p<k>    "slot lease rid deadline" of RCPT k, whose answer is awaited: its slot (µs), its session's
            lease, the id of the request that reserved it, and when it counts as lost if still unreported (µs)
    q<rid>  k: the reservation made by request rid, so that a request delivered twice (a client resending
            a command whose reply was lost with its connection) reserves once
]]
local function pending_fields(p)
  local f = {}
  for part in string.gmatch(p, '%S+') do f[#f + 1] = part end
  return tonumber(f[1]), f[2], f[3], tonumber(f[4])
end
-- Forget the outstanding record of RCPT k (and its request id).
local function drop_pending(k, rid)
  redis.call('HDEL', KEYS[2], 'p' .. k)
  if rid then redis.call('HDEL', KEYS[2], 'q' .. rid) end
end
