-- Undoes a reservation whose decision was never seen by the gateway (its answer timed out): nothing of it stays
-- counted. A no-op when the decision refused, never ran, or was settled.
-- KEYS: log1, total1, …, logN, totalN, budget1, …, budgetM, registry
-- ARGV: id, N, M, tokens, cost
local id = ARGV[1]
local n = tonumber(ARGV[2])
local m = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local registry = KEYS[2 * n + m + 1]
local day = redis.call('HGET', registry, id)
if not day then
  return 0
end
redis.call('HDEL', registry, id)
local member = id .. ':' .. tokens
for i = 1, n do
  if redis.call('ZREM', KEYS[2 * i - 1], member) == 1 and tokens ~= 0 then
    redis.call('DECRBY', KEYS[2 * i], tokens)
  end
end
for j = 1, m do
  if cost ~= 0 and redis.call('HEXISTS', KEYS[2 * n + j], day) == 1 then
    redis.call('HINCRBY', KEYS[2 * n + j], day, -cost)
  end
end
return 1
