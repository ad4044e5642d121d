-- Replaces a request's reservation with what it used, in every scope where it is still in the window, and in the
-- daily budget of the day it was admitted.
-- KEYS: log1, tokens1, total1, …[, budget]
-- ARGV: member, N, tokens, costDelta, day
local member = ARGV[1]
local n = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local costDelta = tonumber(ARGV[4])
for i = 1, n do
  local log, amounts, total = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  if redis.call('ZSCORE', log, member) then
    local reserved = tonumber(redis.call('HGET', amounts, member) or '0')
    redis.call('HSET', amounts, member, tokens)
    redis.call('INCRBY', total, tokens - reserved)
  end
end
local budget = KEYS[3 * n + 1]
if budget and costDelta ~= 0 and redis.call('HEXISTS', budget, ARGV[5]) == 1 then
  redis.call('HINCRBY', budget, ARGV[5], costDelta)
end
return 1
