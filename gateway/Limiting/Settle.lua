-- Replaces a reservation with what was used, once: in every scope where it is still in the window, and in the
-- budgets of the day it was admitted. A reservation already settled or released is left alone.
-- KEYS: log1, total1, …, logN, totalN, budget1, …, budgetM, registry
-- ARGV: id, N, M, reservedTokens, usedTokens, costDelta
local id = ARGV[1]
local n = tonumber(ARGV[2])
local m = tonumber(ARGV[3])
local reserved = tonumber(ARGV[4])
local used = tonumber(ARGV[5])
local costDelta = tonumber(ARGV[6])
local registry = KEYS[2 * n + m + 1]
local day = redis.call('HGET', registry, id)
if not day then
  return 0
end
redis.call('HDEL', registry, id)

if used ~= reserved then
  local before = id .. ':' .. reserved
  for i = 1, n do
    local log, total = KEYS[2 * i - 1], KEYS[2 * i]
    local at = redis.call('ZSCORE', log, before)
    if at then
      redis.call('ZREM', log, before)
      redis.call('ZADD', log, at, id .. ':' .. used)
      redis.call('INCRBY', total, used - reserved)
    end
  end
end

if costDelta ~= 0 then
  for j = 1, m do
    local budget = KEYS[2 * n + j]
    if redis.call('HEXISTS', budget, day) == 1 then
      redis.call('HINCRBY', budget, day, costDelta)
    end
  end
end
return 1
