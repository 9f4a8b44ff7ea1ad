--[[
  Dedup of a split run: which of these addresses does the run see for the first time? Idempotent per
  chunk: the same chunk asked again — a command sent again after its connection broke, whose first answer
  never arrived — gets the same answer (its addresses are not taken for duplicates of themselves).
  The keys travel as one argument and the answer as one string: a chunk of 2,000 addresses is one bulk
  string each way, not 2,000 (what the caller spends encoding and decoding arguments is most of a dedup).

  Input:
    KEYS[1] the list's `seen` hash (dedup key → number of the chunk of this run that saw it first)
    ARGV[1] this chunk's number in the split run
    ARGV[2] the dedup keys (normalised addresses, which never hold a line feed), each followed by '\n'
  Output:
    a string of one '1' (first time) or '0' (seen before, also earlier in this chunk) per dedup key, in order
]]
local out, here = {}, {}
local keys = ARGV[2]
local from = 1
while from <= #keys do
  local to = string.find(keys, '\n', from, true)
  local k = string.sub(keys, from, to - 1)
  from = to + 1
  local fresh = '0'
  if not here[k] then
    here[k] = true
    if redis.call('HSETNX', KEYS[1], k, ARGV[1]) == 1 or redis.call('HGET', KEYS[1], k) == ARGV[1] then fresh = '1' end
  end
  out[#out + 1] = fresh
end
return table.concat(out)
