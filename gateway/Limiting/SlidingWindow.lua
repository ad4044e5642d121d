-- One admission decision, atomic: every scope (and the daily budget) admits, or nothing is reserved.
-- Per scope, three keys: a sorted set of request ids scored by admission time (ms), a hash of their reserved
-- tokens, and the running token total. Time is Redis server time (TIME) unless ARGV[1] gives it.
-- KEYS: log1, tokens1, total1, …, logN, tokensN, totalN[, budget]
-- ARGV: now|'', member, N, tokens, budgetCap(-1 none), cost, then per scope: windowMs, requestLimit(-1), tokenLimit(-1)
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local member = ARGV[2]
local n = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
local cost = tonumber(ARGV[6])
local counts, totals, oldest = {}, {}, {}

for i = 1, n do
  local log, amounts, total = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local window = tonumber(ARGV[4 + 3 * i])
  local requestLimit = tonumber(ARGV[5 + 3 * i])
  local tokenLimit = tonumber(ARGV[6 + 3 * i])

  local expired = redis.call('ZRANGEBYSCORE', log, '-inf', now - window)
  if #expired > 0 then
    local freed = 0
    for j = 1, #expired, 1000 do
      local chunk = {unpack(expired, j, math.min(j + 999, #expired))}
      for _, amount in ipairs(redis.call('HMGET', amounts, unpack(chunk))) do
        freed = freed + (tonumber(amount) or 0)
      end
      redis.call('HDEL', amounts, unpack(chunk))
    end
    redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
    if freed ~= 0 then
      redis.call('DECRBY', total, freed)
    end
  end

  local count = redis.call('ZCARD', log)
  local used = tonumber(redis.call('GET', total) or '0')
  local first = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  oldest[i] = first[2] and tonumber(first[2]) or now

  if requestLimit >= 0 and count + 1 > requestLimit then
    return {0, i, 1, oldest[i] + window - now}
  end

  if tokenLimit >= 0 and used + tokens > tokenLimit then
    if tokens > tokenLimit then
      return {0, i, 2, -1}
    end
    local need = used + tokens - tokenLimit
    local entries = redis.call('ZRANGE', log, 0, -1, 'WITHSCORES')
    local freed = 0
    for j = 1, #entries, 2 do
      freed = freed + (tonumber(redis.call('HGET', amounts, entries[j])) or 0)
      if freed >= need then
        return {0, i, 2, tonumber(entries[j + 1]) + window - now}
      end
    end
    return {0, i, 2, window}
  end

  counts[i], totals[i] = count, used
end

local day = math.floor(now / 86400000)
local budget = KEYS[3 * n + 1]
if cap >= 0 then
  local spent = tonumber(redis.call('HGET', budget, day) or '0')
  if spent + cost > cap then
    return {0, n + 1, 3, (day + 1) * 86400000 - now}
  end
end

local result = {1, day}
for i = 1, n do
  local log, amounts, total = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local window = tonumber(ARGV[4 + 3 * i])
  local requestLimit = tonumber(ARGV[5 + 3 * i])
  local tokenLimit = tonumber(ARGV[6 + 3 * i])
  redis.call('ZADD', log, now, member)
  redis.call('HSET', amounts, member, tokens)
  redis.call('INCRBY', total, tokens)
  local ttl = window + 60000
  redis.call('PEXPIRE', log, ttl)
  redis.call('PEXPIRE', amounts, ttl)
  redis.call('PEXPIRE', total, ttl)
  result[#result + 1] = requestLimit >= 0 and (requestLimit - counts[i] - 1) or -1
  result[#result + 1] = tokenLimit >= 0 and (tokenLimit - totals[i] - tokens) or -1
  result[#result + 1] = oldest[i] + window - now
end

if cap >= 0 then
  redis.call('HINCRBY', budget, day, cost)
  for _, field in ipairs(redis.call('HKEYS', budget)) do
    if tonumber(field) < day then
      redis.call('HDEL', budget, field)
    end
  end
  redis.call('EXPIRE', budget, 172800)
end

return result
