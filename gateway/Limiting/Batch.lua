-- A batch of one client's limiter operations, run in order, atomically: admission decisions ('a'), settlements ('s')
-- and releases ('r'). Each decision sees every operation before it, so a batch decides exactly as the same operations
-- one script call each would; what the batch writes is written once per key at the end.
-- Per scope, three keys: a sorted set of reservations "id:tokens" scored by admission time (ms); the running token
-- total of the window; and a sorted set of settlement corrections "id:delta", scored by the admission time of the
-- reservation they correct, so a correction leaves the window with its reservation. Per budget, a hash of spent
-- micro-USD by UTC day. The client's registry of open reservations (id -> day) lets a reservation be settled once or
-- released. Time is Redis server time (TIME) unless ARGV[1] gives it.
-- No operation walks a window: expiry is amortized O(1) per reservation, a refusal reads at most 8 entries.
-- KEYS: registry, then per scope: log, total, corrections; then the budgets
-- ARGV: now|'', scope count S, budget count B, id count K, then
--   K ids (of the settlements and releases, looked up in the registry at once),
--   S × (windowMs, requestLimit|-1, tokenLimit|-1), B × cap,
--   then the operations, each: kind, id, a, b, [costDelta, day, admittedAtMs,] n, n × scope, m, m × budget
--   'a': a = tokens, b = cost; 's': a = reserved tokens, b = used tokens, then costDelta, day, admittedAtMs;
--   'r': a = tokens, b = cost.   (scope: 1..S, budget: 1..B)
-- Returns one entry per operation: an admission {1, day, admittedAtMs, requestsLeft1, tokensLeft1, resetMs1, …}, a
-- refusal {0, reason (1 requests, 2 tokens, 3 budget), index within the operation, retryMs (-1: never)}, or 1 / 0
-- for a settlement or release that found (or did not find) its reservation.
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local day = math.floor(now / 86400000)
local scopeCount, budgetCount, idCount = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local registry = KEYS[1]

local windows, requestLimits, tokenLimits, caps = {}, {}, {}, {}
do
  local at = 5 + idCount
  for s = 1, scopeCount do
    windows[s], requestLimits[s], tokenLimits[s] = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
    at = at + 3
  end
  for b = 1, budgetCount do
    caps[b] = tonumber(ARGV[at])
    at = at + 1
  end
end

local function amount(entry)
  return tonumber(string.match(entry, ':(%-?%d+)$')) or 0
end

local function sum(entries)
  local total = 0
  for _, entry in ipairs(entries) do
    total = total + amount(entry)
  end
  return total
end

local function keysOf(s)
  return KEYS[3 * s - 1], KEYS[3 * s], KEYS[3 * s + 1]
end

local function budgetKey(b)
  return KEYS[1 + 3 * scopeCount + b]
end

-- The scopes touched by the batch, loaded once (expired, then counted): {count, used, oldest, adds, added, corrections}.
local scopes = {}
local function load(s)
  local state = scopes[s]
  if state then
    return state
  end
  local log, total, corrections = keysOf(s)
  local cutoff = now - windows[s]
  local freed = 0
  local expired = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
  if #expired > 0 then
    freed = sum(expired)
    redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
  end
  local corrected = redis.call('ZRANGEBYSCORE', corrections, '-inf', cutoff)
  if #corrected > 0 then
    freed = freed + sum(corrected)
    redis.call('ZREMRANGEBYSCORE', corrections, '-inf', cutoff)
  end
  if freed ~= 0 then
    redis.call('DECRBY', total, freed)
  end
  local first = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  state = {
    count = redis.call('ZCARD', log),
    used = tonumber(redis.call('GET', total) or '0'),
    oldest = first[2] and tonumber(first[2]) or nil,
    adds = {}, added = 0, corrections = {},
  }
  scopes[s] = state
  return state
end

-- The budgets touched by admissions in the batch, today's spend loaded once: {spent, added, admitted}.
local budgets = {}
local function budget(b)
  local state = budgets[b]
  if not state then
    state = {spent = tonumber(redis.call('HGET', budgetKey(b), day) or '0'), added = 0}
    budgets[b] = state
  end
  return state
end

-- A settlement's or release's cost change, in the budgets of the day it was reserved: only a day still counted (a
-- change never brings back a day that has gone).
local function adjustBudgets(budgetBase, m, reservedDay, delta)
  if delta == 0 then
    return
  end
  for k = 1, m do
    local b = tonumber(ARGV[budgetBase + k - 1])
    local key = budgetKey(b)
    if redis.call('HEXISTS', key, reservedDay) == 1 then
      redis.call('HINCRBY', key, reservedDay, delta)
      if budgets[b] and tonumber(reservedDay) == day then
        budgets[b].spent = budgets[b].spent + delta
      end
    end
  end
end

-- When enough tokens leave the window: from its oldest 8 reservations at most (then the batch's own, admitted now).
local function tokensFreedAt(s, state, need)
  local entries = redis.call('ZRANGE', KEYS[3 * s - 1], 0, 7, 'WITHSCORES')
  local freed, at = 0, now
  for j = 1, #entries, 2 do
    freed = freed + amount(entries[j])
    at = tonumber(entries[j + 1])
    if freed >= need then
      return at
    end
  end
  if #entries < 16 and #state.adds > 0 then
    return now
  end
  return at
end

-- The registry entries of every settlement and release of the batch, read at once.
local open = {}
if idCount > 0 then
  local ids = {}
  for j = 1, idCount do
    ids[j] = ARGV[4 + j]
  end
  local days = redis.call('HMGET', registry, unpack(ids))
  for j = 1, idCount do
    if days[j] then
      open[ids[j]] = days[j]
    end
  end
end

local registered, ttl, dropped = {}, 60000, {}
local results = {}
local i = 5 + idCount + 3 * scopeCount + budgetCount
while i <= #ARGV do
  local kind, id, a, b = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local costDelta, reservedDay, admittedAt
  if kind == 's' then
    costDelta, reservedDay, admittedAt = tonumber(ARGV[i + 4]), ARGV[i + 5], tonumber(ARGV[i + 6])
    i = i + 7
  else
    i = i + 4
  end
  local n = tonumber(ARGV[i])
  local scopeBase = i + 1
  local m = tonumber(ARGV[scopeBase + n])
  local budgetBase = scopeBase + n + 1
  i = budgetBase + m

  if kind == 'a' then
    local tokens, cost = a, b
    local refusal = nil
    for k = 1, n do
      local s = tonumber(ARGV[scopeBase + k - 1])
      local state, window, requestLimit, tokenLimit = load(s), windows[s], requestLimits[s], tokenLimits[s]
      if requestLimit >= 0 and state.count + 1 > requestLimit then
        refusal = {0, 1, k, (state.oldest or now) + window - now}
        break
      end
      if tokenLimit >= 0 and state.used + tokens > tokenLimit then
        if tokens > tokenLimit then
          refusal = {0, 2, k, -1}
        else
          refusal = {0, 2, k, tokensFreedAt(s, state, state.used + tokens - tokenLimit) + window - now}
        end
        break
      end
    end
    if not refusal then
      for k = 1, m do
        local bi = tonumber(ARGV[budgetBase + k - 1])
        if budget(bi).spent + cost > caps[bi] then
          refusal = {0, 3, k, (day + 1) * 86400000 - now}
          break
        end
      end
    end
    if refusal then
      results[#results + 1] = refusal
    else
      local result = {1, day, now}
      local member = id .. ':' .. tokens
      for k = 1, n do
        local s = tonumber(ARGV[scopeBase + k - 1])
        local state, window, requestLimit, tokenLimit = scopes[s], windows[s], requestLimits[s], tokenLimits[s]
        result[#result + 1] = requestLimit >= 0 and (requestLimit - state.count - 1) or -1
        result[#result + 1] = tokenLimit >= 0 and (tokenLimit - state.used - tokens) or -1
        result[#result + 1] = (state.oldest or now) + window - now
        -- A reservation of no tokens in a tokens-only scope changes nothing there: not logged, so the log stays
        -- bounded by the limit.
        if requestLimit >= 0 or tokens ~= 0 then
          local adds = state.adds
          adds[#adds + 1] = now
          adds[#adds + 1] = member
          state.added = state.added + tokens
          state.count = state.count + 1
          state.used = state.used + tokens
          state.oldest = state.oldest or now
        end
        if window + 60000 > ttl then
          ttl = window + 60000
        end
      end
      for k = 1, m do
        local state = budget(tonumber(ARGV[budgetBase + k - 1]))
        state.spent = state.spent + cost
        state.added = state.added + cost
        state.admitted = true
      end
      if m > 0 then
        ttl = 172800000
      end
      registered[#registered + 1] = id
      registered[#registered + 1] = day
      results[#results + 1] = result
    end
  elseif not open[id] then
    -- Already settled or released, or never admitted.
    results[#results + 1] = 0
  elseif kind == 's' then
    open[id] = nil
    dropped[#dropped + 1] = id
    local delta = b - a
    if delta ~= 0 then
      for k = 1, n do
        local s = tonumber(ARGV[scopeBase + k - 1])
        -- Still in the window (no expiry has reached it: time only moves on): corrected until it leaves. Else it has
        -- left, or leaves at the next expiry, with what it reserved: nothing to correct.
        if admittedAt > now - windows[s] then
          local state = load(s)
          local corrections = state.corrections
          corrections[#corrections + 1] = admittedAt
          corrections[#corrections + 1] = id .. ':' .. delta
          state.added = state.added + delta
          state.used = state.used + delta
        end
      end
    end
    adjustBudgets(budgetBase, m, reservedDay, costDelta)
    results[#results + 1] = 1
  else
    local tokens, cost, reservedDay = a, b, open[id]
    open[id] = nil
    dropped[#dropped + 1] = id
    local member = id .. ':' .. tokens
    for k = 1, n do
      local s = tonumber(ARGV[scopeBase + k - 1])
      local log, total = keysOf(s)
      if redis.call('ZREM', log, member) == 1 then
        if tokens ~= 0 then
          redis.call('DECRBY', total, tokens)
        end
        if scopes[s] then
          scopes[s].count = scopes[s].count - 1
          scopes[s].used = scopes[s].used - tokens
        end
      end
    end
    adjustBudgets(budgetBase, m, reservedDay, -cost)
    results[#results + 1] = 1
  end
end

-- What the batch adds, once per key; the total first (INCRBY may create it) and every key's TTL after it is written.
for s, state in pairs(scopes) do
  local log, total, corrections = keysOf(s)
  local keep = windows[s] + 60000
  if state.added ~= 0 then
    redis.call('INCRBY', total, state.added)
  end
  if #state.adds > 0 then
    redis.call('ZADD', log, unpack(state.adds))
    redis.call('PEXPIRE', log, keep)
    redis.call('PEXPIRE', total, keep)
  end
  if #state.corrections > 0 then
    redis.call('ZADD', corrections, unpack(state.corrections))
    redis.call('PEXPIRE', corrections, keep)
  end
end

-- Written even when the cost is 0: a settlement adjusts only a day that has a field.
for b, state in pairs(budgets) do
  if state.admitted then
    local key = budgetKey(b)
    redis.call('HINCRBY', key, day, state.added)
    if redis.call('HLEN', key) > 1 then
      for _, field in ipairs(redis.call('HKEYS', key)) do
        if tonumber(field) < day then
          redis.call('HDEL', key, field)
        end
      end
    end
    redis.call('EXPIRE', key, 172800)
  end
end

if #dropped > 0 then
  redis.call('HDEL', registry, unpack(dropped))
end
if #registered > 0 then
  redis.call('HSET', registry, unpack(registered))
  if redis.call('PTTL', registry) < ttl then
    redis.call('PEXPIRE', registry, ttl)
  end
end
return results
