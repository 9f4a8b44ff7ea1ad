--[[
  Mark domains of a list as probed: some batch of each goes to the probe queue, so its addresses may have
  verdicts of their own. A domain with a domain verdict (`@<domain>`, written by the split for a batch without
  any mail route) and no mark is dead in every batch: the aggregate gives its addresses the domain verdict
  without looking them up one by one. Marked before the probe jobs are added, so no address has a verdict of
  its own while its domain is unmarked. Nothing is written for a list whose state is gone.

  Input:
    KEYS[1] meta     the list's metadata hash
    KEYS[2] results  hash: address -> stored verdict, `@<domain>` -> domain verdict, `!<domain>` -> probed mark
    ARGV[1] key TTL (seconds) for the results hash
    ARGV[2..] the marks' fields (`!<domain>`)
  Output:
    1  marked
    0  the list has no state: nothing written
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 500 do
  local fv = {}
  for j = i, math.min(i + 499, #ARGV) do
    fv[#fv + 1] = ARGV[j]
    fv[#fv + 1] = '1'
  end
  redis.call('HSET', KEYS[2], unpack(fv))
end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1]))
return 1
