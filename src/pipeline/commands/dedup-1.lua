--[[
  Dedup of a split run: which of these addresses does the run see for the first time? Idempotent per
  chunk: the same chunk asked again — a command sent again after its connection broke, whose first answer
  never arrived — gets the same answer (its addresses are not taken for duplicates of themselves).

  Input:
    KEYS[1] the list's `seen` hash (dedup key → number of the chunk of this run that saw it first)
    ARGV[1] this chunk's number in the split run
    ARGV[2..] dedup keys (normalised addresses)
  Output:
    one 1 (first time) or 0 (seen before, also earlier in this chunk) per dedup key, in order
]]
local out, here = {}, {}
for i = 2, #ARGV do
  local k = ARGV[i]
  local fresh = 0
  if not here[k] then
    here[k] = true
    if redis.call('HSETNX', KEYS[1], k, ARGV[1]) == 1 or redis.call('HGET', KEYS[1], k) == ARGV[1] then fresh = 1 end
  end
  out[i - 1] = fresh
end
return out
