--[[
  Dedup of a split run: which of these addresses does the run see for the first time?

  Input:
    KEYS[1] the list's `seen` set
    ARGV    dedup keys (normalised addresses)
  Output:
    one 1 (first time) or 0 (seen before) per ARGV, in order
]]
local out = {}
for i, k in ipairs(ARGV) do out[i] = redis.call('SADD', KEYS[1], k) end
return out
