/**
 * The throttle's Redis scripts, one atomic script per operation. Every script takes the same three
 * keys of ONE group (they share a Redis Cluster hash tag, see `mx-throttle.ts`):
 *
 *   KEYS[1] leases  ZSET  leaseId → expiry (µs, Redis clock)
 *   KEYS[2] state   HASH  tat       GCRA theoretical arrival time of the next RCPT (µs)
 *                         conn, iv  reduced effective limits (absent = the configured ones);
 *                                   iv is the emission interval in µs, so fractional rates work
 *                         cool      cooldown end (µs)           lastsig  last halving (µs)
 *                         step      recovery reference time (µs)
 *                         open      circuit open until (µs)     opened   when the circuit first opened (µs)
 *   KEYS[3] stats   HASH  counters (HINCRBY)
 *
 * All times come from `redis.call('TIME')` in microseconds (≈1.7e15 < 2^53, exact in a Lua double)
 * and are stored with `%.0f` (Lua's tostring would keep only 14 significant digits). Every write
 * refreshes the key's TTL (`ttl` argument, ms), so idle groups disappear.
 */

const PRELUDE = `
if redis.replicate_commands then redis.replicate_commands() end
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function fmt(n) return string.format('%.0f', n) end
local function ceil_ms(us)
  local ms = math.ceil(us / 1000)
  if ms < 1 then ms = 1 end
  return ms
end
local function bump(field, by, ttl)
  redis.call('HINCRBY', KEYS[3], field, by)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
local function eff_conn(cfg, stored)
  local c = tonumber(stored)
  if c == nil or c > cfg then return cfg end
  return c
end
local function eff_iv(cfg, stored)
  local v = tonumber(stored)
  if v == nil or v < cfg then return cfg end
  return v
end
`;

/**
 * ARGV: leaseId, leaseMs, cfgConn, busyRetryMs, ttl.
 * → {1, leaseId} | {0, 'open'|'cooldown'|'busy', retryInMs}
 */
export const ACQUIRE = `${PRELUDE}
local now = now_us()
local lease_id = ARGV[1]
local lease_ms = tonumber(ARGV[2])
local ttl = tonumber(ARGV[5])
local st = redis.call('HMGET', KEYS[2], 'conn', 'cool', 'open')
local open_until = tonumber(st[3])
if open_until and now < open_until then
  bump('openRefusals', 1, ttl)
  return {0, 'open', ceil_ms(open_until - now)}
end
local cool_until = tonumber(st[2])
if cool_until and now < cool_until then
  bump('cooldownRefusals', 1, ttl)
  return {0, 'cooldown', ceil_ms(cool_until - now)}
end
local reclaimed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now))
if reclaimed > 0 then bump('leasesReclaimed', reclaimed, ttl) end
local expiry = fmt(now + lease_ms * 1000)
local lease_ttl = math.max(ttl, lease_ms)
if redis.call('ZSCORE', KEYS[1], lease_id) then
  -- the same lease asked again (a retried call whose reply was lost): extend, do not count twice
  redis.call('ZADD', KEYS[1], expiry, lease_id)
  redis.call('PEXPIRE', KEYS[1], lease_ttl)
  return {1, lease_id}
end
local limit = eff_conn(tonumber(ARGV[3]), st[1])
if redis.call('ZCARD', KEYS[1]) >= limit then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = math.min(tonumber(ARGV[4]), ceil_ms(tonumber(first[2]) - now))
  bump('busyRefusals', 1, ttl)
  return {0, 'busy', wait}
end
redis.call('ZADD', KEYS[1], expiry, lease_id)
redis.call('PEXPIRE', KEYS[1], lease_ttl)
bump('acquired', 1, ttl)
return {1, lease_id}
`;

/** ARGV: leaseId, leaseMs, ttl. → 1 renewed | 0 lease gone (expired, reclaimed or released). */
export const RENEW = `${PRELUDE}
local now = now_us()
local lease_ms = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
local exp = s and tonumber(s)
if not exp or exp <= now then
  if exp then
    redis.call('ZREM', KEYS[1], ARGV[1])
    bump('leasesReclaimed', 1, ttl)
  end
  bump('leasesLost', 1, ttl)
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', fmt(now + lease_ms * 1000), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.max(ttl, lease_ms))
bump('renewed', 1, ttl)
return 1
`;

/** ARGV: leaseId, ttl. → 1 released | 0 was not held any more. */
export const RELEASE = `${PRELUDE}
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if removed == 1 then bump('released', 1, tonumber(ARGV[2])) end
return removed
`;

/**
 * GCRA with burst tolerance τ = 0. ARGV: cfgIv (µs), ttl, leaseId or ''.
 * Allowed iff now ≥ TAT; then TAT = max(TAT, now) + T (= now + T). Not allowed: nothing is consumed.
 * → {waitMs (0 = granted), now µs}
 */
export const TAKE_RCPT = `${PRELUDE}
local now = now_us()
local ttl = tonumber(ARGV[2])
local st = redis.call('HMGET', KEYS[2], 'tat', 'iv')
local tat = tonumber(st[1])
if tat and now < tat then
  bump('rcptWaits', 1, ttl)
  return {ceil_ms(tat - now), fmt(now)}
end
local iv = eff_iv(tonumber(ARGV[1]), st[2])
redis.call('HSET', KEYS[2], 'tat', fmt(now + iv))
redis.call('PEXPIRE', KEYS[2], ttl)
bump('rcptTaken', 1, ttl)
if ARGV[3] ~= '' then
  local s = redis.call('ZSCORE', KEYS[1], ARGV[3])
  if not s or tonumber(s) <= now then bump('rcptLeaseLost', 1, ttl) end
end
return {0, fmt(now)}
`;

/**
 * ARGV: cfgConn, cfgIv (µs), maxIv (µs, the rate floor), cooldownMs, ttl.
 * Halves the effective limits once per cooldown window (signals from sessions that were already
 * running when the first one arrived do not halve again), (re)starts the cooldown and the recovery clock.
 * → {halved 0|1, conn, iv µs, cooldownUntil µs, now µs}
 */
export const RATE_LIMITED = `${PRELUDE}
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
`;

/**
 * ARGV: cfgConn, cfgIv (µs), stepMs, ttl.
 * One recovery step (+1 connection, rate ×1.25) per full stepMs since the last rate-limit signal or
 * step, up to the configured limits. Also ends a "blocked" episode whose circuit has closed again.
 * → {steps applied, conn, iv µs, now µs}
 */
export const SUCCESS = `${PRELUDE}
local now = now_us()
local cfg_conn = tonumber(ARGV[1])
local cfg_iv = tonumber(ARGV[2])
local step_us = tonumber(ARGV[3]) * 1000
local ttl = tonumber(ARGV[4])
bump('successes', 1, ttl)
local st = redis.call('HMGET', KEYS[2], 'conn', 'iv', 'step', 'open', 'opened')
if st[5] then
  local open_until = tonumber(st[4])
  if not open_until or now >= open_until then redis.call('HDEL', KEYS[2], 'opened', 'open') end
end
if not st[1] and not st[2] then return {0, cfg_conn, fmt(cfg_iv), fmt(now)} end
local conn = eff_conn(cfg_conn, st[1])
local iv = eff_iv(cfg_iv, st[2])
local ref = tonumber(st[3])
if not ref then
  ref = now
  redis.call('HSET', KEYS[2], 'step', fmt(now))
end
local n = math.floor((now - ref) / step_us)
local applied = 0
while applied < n and (conn < cfg_conn or iv > cfg_iv) do
  if conn < cfg_conn then conn = conn + 1 end
  if iv > cfg_iv then iv = math.max(cfg_iv, math.ceil(iv * 0.8)) end
  applied = applied + 1
end
if conn >= cfg_conn and iv <= cfg_iv then
  redis.call('HDEL', KEYS[2], 'conn', 'iv', 'step')
elseif applied > 0 then
  redis.call('HSET', KEYS[2], 'conn', fmt(conn), 'iv', fmt(iv), 'step', fmt(ref + applied * step_us))
end
if applied > 0 then bump('recoverySteps', applied, ttl) end
redis.call('PEXPIRE', KEYS[2], ttl)
return {applied, conn, fmt(iv), fmt(now)}
`;

/**
 * ARGV: openMs, ttl. Opens (or extends) the circuit; keeps the first opening time.
 * → {1, openedAt µs, openUntil µs, now µs}
 */
export const BLOCKED = `${PRELUDE}
local now = now_us()
local ttl = tonumber(ARGV[2])
bump('blockedSignals', 1, ttl)
local st = redis.call('HMGET', KEYS[2], 'open', 'opened')
local open_until = math.max(tonumber(st[1]) or 0, now + tonumber(ARGV[1]) * 1000)
local opened = tonumber(st[2]) or now
redis.call('HSET', KEYS[2], 'open', fmt(open_until), 'opened', fmt(opened))
redis.call('PEXPIRE', KEYS[2], ttl)
return {1, fmt(opened), fmt(open_until), fmt(now)}
`;

/** Read-only. → {open 0|1, openedAt µs or '', openUntil µs or '', now µs} */
export const CIRCUIT = `${PRELUDE}
local now = now_us()
local st = redis.call('HMGET', KEYS[2], 'open', 'opened')
local open_until = tonumber(st[1])
local is_open = 0
if open_until and now < open_until then is_open = 1 end
return {is_open, st[2] or '', st[1] or '', fmt(now)}
`;

/**
 * Read-only. ARGV: cfgConn, cfgIv (µs).
 * → {conn, iv µs, cooldownUntil µs or '', openUntil or '', openedAt or '', activeLeases, now µs}
 */
export const STATE = `${PRELUDE}
local now = now_us()
local st = redis.call('HMGET', KEYS[2], 'conn', 'iv', 'cool', 'open', 'opened')
local active = redis.call('ZCOUNT', KEYS[1], '(' .. fmt(now), '+inf')
return {eff_conn(tonumber(ARGV[1]), st[1]), fmt(eff_iv(tonumber(ARGV[2]), st[2])), st[3] or '', st[4] or '', st[5] or '', active, fmt(now)}
`;

/** Command names registered on the ioredis client with `defineCommand` (3 keys each). */
export const SCRIPTS = {
  lwThrAcquire: ACQUIRE,
  lwThrRenew: RENEW,
  lwThrRelease: RELEASE,
  lwThrTakeRcpt: TAKE_RCPT,
  lwThrRateLimited: RATE_LIMITED,
  lwThrSuccess: SUCCESS,
  lwThrBlocked: BLOCKED,
  lwThrCircuit: CIRCUIT,
  lwThrState: STATE,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
