-- One admission decision, atomic: every scope and every budget admits, or nothing is reserved.
-- Per scope, two keys: a sorted set of reservations "id:tokens" scored by admission time (ms), and the running token
-- total of the window. Per budget, a hash of spent micro-USD by UTC day. Last, the client's registry of open
-- reservations (id -> day), by which a reservation is settled once or released. Time is Redis server time (TIME)
-- unless ARGV[1] gives it. Every refusal does bounded work: no walk over the window.
-- KEYS: log1, total1, …, logN, totalN, budget1, …, budgetM, registry
-- ARGV: now|'', id, N, M, tokens, cost, then per scope: windowMs, requestLimit(-1), tokenLimit(-1), then per budget: cap
-- Returns {1, day, requestsLeft1, tokensLeft1, resetMs1, …} or {0, reason (1 requests, 2 tokens, 3 budget), index, retryMs (-1: never)}
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local id = ARGV[2]
local n = tonumber(ARGV[3])
local m = tonumber(ARGV[4])
local tokens = tonumber(ARGV[5])
local cost = tonumber(ARGV[6])
local member = id .. ':' .. tokens
local counts, totals, oldest = {}, {}, {}
local ttl = 60000

local function amount(entry)
  return tonumber(string.match(entry, ':(%-?%d+)$')) or 0
end

for i = 1, n do
  local log, total = KEYS[2 * i - 1], KEYS[2 * i]
  local window = tonumber(ARGV[4 + 3 * i])
  local requestLimit = tonumber(ARGV[5 + 3 * i])
  local tokenLimit = tonumber(ARGV[6 + 3 * i])
  local cutoff = now - window
  if window + 60000 > ttl then
    ttl = window + 60000
  end

  -- Each reservation leaves the window exactly once: amortized O(1) per request.
  local expired = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
  if #expired > 0 then
    local freed = 0
    for _, entry in ipairs(expired) do
      freed = freed + amount(entry)
    end
    redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
    if freed ~= 0 then
      redis.call('DECRBY', total, freed)
    end
  end

  local count = redis.call('ZCARD', log)
  local used = tonumber(redis.call('GET', total) or '0')
  local first = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  oldest[i] = first[2] and tonumber(first[2]) or now

  if requestLimit >= 0 and count + 1 > requestLimit then
    return {0, 1, i, oldest[i] + window - now}
  end

  if tokenLimit >= 0 and used + tokens > tokenLimit then
    if tokens > tokenLimit then
      return {0, 2, i, -1}
    end
    -- When enough tokens leave: from the oldest 8 reservations at most, so a refusal costs no more than an admission.
    -- Past them, the answer is when the 8th leaves, an early bound that the retry refines.
    local need = used + tokens - tokenLimit
    local entries = redis.call('ZRANGE', log, 0, 7)
    local freed, last = 0, nil
    for j = 1, #entries do
      freed = freed + amount(entries[j])
      last = entries[j]
      if freed >= need then
        break
      end
    end
    local at = last and tonumber(redis.call('ZSCORE', log, last)) or now
    return {0, 2, i, at + window - now}
  end

  counts[i], totals[i] = count, used
end

local day = math.floor(now / 86400000)
for j = 1, m do
  local cap = tonumber(ARGV[6 + 3 * n + j])
  local spent = tonumber(redis.call('HGET', KEYS[2 * n + j], day) or '0')
  if spent + cost > cap then
    return {0, 3, j, (day + 1) * 86400000 - now}
  end
end

local result = {1, day}
for i = 1, n do
  local log, total = KEYS[2 * i - 1], KEYS[2 * i]
  local window = tonumber(ARGV[4 + 3 * i])
  local requestLimit = tonumber(ARGV[5 + 3 * i])
  local tokenLimit = tonumber(ARGV[6 + 3 * i])
  -- A reservation of no tokens in a tokens-only scope changes nothing there: not logged, so the log stays bounded by the limit.
  if requestLimit >= 0 or tokens ~= 0 then
    redis.call('ZADD', log, now, member)
    if tokens ~= 0 then
      redis.call('INCRBY', total, tokens)
    end
    redis.call('PEXPIRE', log, window + 60000)
    redis.call('PEXPIRE', total, window + 60000)
  end
  result[#result + 1] = requestLimit >= 0 and (requestLimit - counts[i] - 1) or -1
  result[#result + 1] = tokenLimit >= 0 and (tokenLimit - totals[i] - tokens) or -1
  result[#result + 1] = oldest[i] + window - now
end

for j = 1, m do
  local budget = KEYS[2 * n + j]
  redis.call('HINCRBY', budget, day, cost)
  if redis.call('HLEN', budget) > 1 then
    for _, field in ipairs(redis.call('HKEYS', budget)) do
      if tonumber(field) < day then
        redis.call('HDEL', budget, field)
      end
    end
  end
  redis.call('EXPIRE', budget, 172800)
  ttl = 172800000
end

local registry = KEYS[2 * n + m + 1]
redis.call('HSET', registry, id, day)
redis.call('PEXPIRE', registry, ttl)
return result
