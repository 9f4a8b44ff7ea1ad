--[[
  Completion check of a list: exact however many workers finish batches at once. A batch that just
  finished also stops waiting (greylist retry time, throttle hold): all in one step.

  Input:
    KEYS[1] the list's `meta` hash
    KEYS[2] the list's `done` set (finished batch ids)
    KEYS[3] the list's `held` hash (batch id -> throttle group it waits for)
    KEYS[4] the list's `waits` sorted set (batch id -> next greylist retry)
    ARGV[1] batch id that just finished, or '' for none
    ARGV[2] total number of batches (the split just finished), or '' when not known here
    ARGV[3] now (ms), recorded as `aggregateQueuedAt`
  Output:
    -1 the list has no state (deleted, expired or lost): nothing written
    1 the split has finished and every batch is done: (re)queue the aggregate. Not only the first time: a
      worker killed between this answer and queueing the aggregate must not leave the list waiting for
      ever, so the batch's re-run queues it again (the aggregate job's id makes that a no-op otherwise)
    0 otherwise
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[1] ~= '' then
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[1])
end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'batches', ARGV[2]) end
local total = redis.call('HGET', KEYS[1], 'batches')
if not total then return 0 end
if redis.call('SCARD', KEYS[2]) < tonumber(total) then return 0 end
redis.call('HSETNX', KEYS[1], 'aggregateQueuedAt', ARGV[3])
return 1
