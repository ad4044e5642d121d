-- A batch of one client's limiter operations, run in order, atomically: admission decisions ('a'), settlements ('s')
-- and releases ('r'). Each decision sees every operation before it, so a batch decides exactly as the same operations
-- one script call each would; what the batch writes is written once per key at the end.
-- Per scope, three keys:
--   log: a sorted set of the batches' admissions, one member per batch, "firstId:requests:tokens", scored by the
--     admission time (ms);
--   totals: a hash {r = requests, t = tokens} in the window, corrections included;
--   corrections: a sorted set of settlements' and releases' changes, "firstId:requests:tokens", scored by the admission
--     time of the reservations they change (one member per admission time and batch), so a change leaves the window
--     with what it changes.
-- Per budget, a hash of spent micro-USD by UTC day. The client's registry of open reservations (id -> "admittedAtMs:
-- scopeMask", the mask's bit k set when the reservation is in scope k's log) lets a reservation be settled once or
-- released. Time is Redis server time (TIME) unless ARGV[1] gives it.
-- No operation walks a window: expiry is amortized O(1) per batch, a refusal reads at most 8 entries.
-- KEYS: registry, then per scope: log, totals, corrections; then the budgets
-- ARGV: now|'', scope count S, budget count B, id count K, set count T, then
--   K ids (of the settlements and releases, looked up in the registry at once),
--   S × (windowMs, requestLimit|-1, tokenLimit|-1), B × cap,
--   T sets — the batch's distinct lists of scopes and budgets, each: n, n × scope, m, m × budget —,
--   then the operations, five arguments each: kind, id, a, b, set
--   'a': a = tokens, b = cost; 's': a = used − reserved tokens, b = used − reserved cost; 'r': a = tokens, b = cost.
--   (scope: 1..S, budget: 1..B, set: 1..T; a settlement's or release's admission time and day are the registry's.
--   Most operations of a batch share one set, read once here rather than once per operation.)
-- Returns one flat list of integers, per operation in order: an admission 1, day, then per scope requestsLeft,
-- tokensLeft, resetMs; a refusal 0, reason (1 requests, 2 tokens, 3 budget), index within the operation, retryMs
-- (-1: never); a settlement or release 1 / 0 as it found (or did not find) its reservation. (Flat: no table per
-- operation here, no nested reply to build and to read.)
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local day = math.floor(now / 86400000)
local scopeCount, budgetCount, idCount, setCount = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local registry = KEYS[1]

-- Each set: its scopes and its budgets, as numbers.
local windows, requestLimits, tokenLimits, caps, setScopes, setBudgets = {}, {}, {}, {}, {}, {}
local i = 6 + idCount
for s = 1, scopeCount do
  windows[s], requestLimits[s], tokenLimits[s] = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  i = i + 3
end
for b = 1, budgetCount do
  caps[b] = tonumber(ARGV[i])
  i = i + 1
end
for t = 1, setCount do
  local scopesOf, budgetsOf = {}, {}
  for k = 1, tonumber(ARGV[i]) do
    scopesOf[k] = tonumber(ARGV[i + k])
  end
  i = i + #scopesOf + 1
  for k = 1, tonumber(ARGV[i]) do
    budgetsOf[k] = tonumber(ARGV[i + k])
  end
  i = i + #budgetsOf + 1
  setScopes[t], setBudgets[t] = scopesOf, budgetsOf
end

-- A member's requests and tokens.
local function amounts(entry)
  local r, t = string.match(entry, ':(%-?%d+):(%-?%d+)$')
  return tonumber(r) or 0, tonumber(t) or 0
end

local function keysOf(s)
  return KEYS[3 * s - 1], KEYS[3 * s], KEYS[3 * s + 1]
end

local function budgetKey(b)
  return KEYS[1 + 3 * scopeCount + b]
end

-- What leaves the window (members scored up to the cutoff), removed: their requests and tokens.
local function expire(key, cutoff)
  local entries = redis.call('ZRANGEBYSCORE', key, '-inf', cutoff)
  local r, t = 0, 0
  if #entries > 0 then
    for _, entry in ipairs(entries) do
      local er, et = amounts(entry)
      r, t = r + er, t + et
    end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  end
  return r, t
end

-- The scopes touched by the batch, loaded once (expired, then counted): {count, used, oldest, batch admissions
-- (first id, requests, tokens), changes of the totals, corrections by admission time}.
local scopes = {}
local function load(s)
  local state = scopes[s]
  if state then
    return state
  end
  local log, totals, corrections = keysOf(s)
  local cutoff = now - windows[s]
  local lr, lt = expire(log, cutoff)
  local cr, ct = expire(corrections, cutoff)
  local counted = redis.call('HMGET', totals, 'r', 't')
  local first = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  state = {
    count = (tonumber(counted[1]) or 0) - lr - cr,
    used = (tonumber(counted[2]) or 0) - lt - ct,
    oldest = first[2] and tonumber(first[2]) or nil,
    firstId = nil, requests = 0, tokens = 0,
    dr = -lr - cr, dt = -lt - ct,
    corrections = {}, correctedAt = {},
  }
  scopes[s] = state
  return state
end

-- A change to reservations admitted at `at` (still in the window), grouped with the batch's other changes to the
-- reservations of that moment.
local function correct(state, at, id, r, t)
  local group = state.correctedAt[at]
  if not group then
    group = {id, 0, 0}
    state.correctedAt[at] = group
    state.corrections[#state.corrections + 1] = at
  end
  group[2], group[3] = group[2] + r, group[3] + t
  state.count, state.used = state.count + r, state.used + t
  state.dr, state.dt = state.dr + r, state.dt + t
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
local function adjustBudgets(budgetsOf, reservedDay, delta)
  if delta == 0 then
    return
  end
  for k = 1, #budgetsOf do
    local b = budgetsOf[k]
    local key = budgetKey(b)
    if redis.call('HEXISTS', key, reservedDay) == 1 then
      redis.call('HINCRBY', key, reservedDay, delta)
      if budgets[b] and reservedDay == day then
        budgets[b].spent = budgets[b].spent + delta
      end
    end
  end
end

-- When enough tokens leave the window: from its oldest 8 entries at most (then the batch's own, admitted now).
local function tokensFreedAt(s, state, need)
  local entries = redis.call('ZRANGE', KEYS[3 * s - 1], 0, 7, 'WITHSCORES')
  local freed, at = 0, now
  for j = 1, #entries, 2 do
    local _, t = amounts(entries[j])
    freed = freed + t
    at = tonumber(entries[j + 1])
    if freed >= need then
      return at
    end
  end
  if #entries < 16 and state.requests > 0 then
    return now
  end
  return at
end

-- The registry entries of every settlement and release of the batch, read at once.
local open = {}
if idCount > 0 then
  local ids = {}
  for j = 1, idCount do
    ids[j] = ARGV[5 + j]
  end
  local entries = redis.call('HMGET', registry, unpack(ids))
  for j = 1, idCount do
    if entries[j] then
      open[ids[j]] = entries[j]
    end
  end
end

local registered, ttl, dropped = {}, 60000, {}
-- Registry values, "admittedAtMs:mask", made without formatting a number per admission (Lua formats numbers slowly).
local admittedNow, maskTexts = now .. ':', {[0] = '0', [1] = '1', [3] = '3', [7] = '7'}
local results, count = {}, 0
-- Each scope's bit in a registry mask, by its place in the operation's set.
local bits = {1, 2, 4, 8, 16, 32, 64, 128}
local last = #ARGV
-- The operations' numbers, each text converted once: a batch's operations mostly repeat the same few amounts.
local numbers = setmetatable({}, {__index = function(cache, text)
  local value = tonumber(text)
  cache[text] = value
  return value
end})
-- Registry values by mask, and registry values read back, each made or parsed once.
local registryTexts, reservations = {}, {}
while i <= last do
  local kind, id, a, b, set = ARGV[i], ARGV[i + 1], numbers[ARGV[i + 2]], numbers[ARGV[i + 3]], numbers[ARGV[i + 4]]
  i = i + 5
  local scopesOf, budgetsOf = setScopes[set], setBudgets[set]
  local n, m = #scopesOf, #budgetsOf

  if kind == 'a' then
    local tokens, cost = a, b
    local refusal = nil
    for k = 1, n do
      local s = scopesOf[k]
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
        local bi = budgetsOf[k]
        if budget(bi).spent + cost > caps[bi] then
          refusal = {0, 3, k, (day + 1) * 86400000 - now}
          break
        end
      end
    end
    if refusal then
      results[count + 1], results[count + 2], results[count + 3], results[count + 4] = refusal[1], refusal[2], refusal[3], refusal[4]
      count = count + 4
    else
      results[count + 1], results[count + 2] = 1, day
      count = count + 2
      local mask = 0
      for k = 1, n do
        local s = scopesOf[k]
        local state, window, requestLimit, tokenLimit = scopes[s], windows[s], requestLimits[s], tokenLimits[s]
        results[count + 1] = requestLimit >= 0 and (requestLimit - state.count - 1) or -1
        results[count + 2] = tokenLimit >= 0 and (tokenLimit - state.used - tokens) or -1
        results[count + 3] = (state.oldest or now) + window - now
        count = count + 3
        -- A reservation of no tokens in a tokens-only scope changes nothing there: not logged, so the log stays
        -- bounded by the limit.
        if requestLimit >= 0 or tokens ~= 0 then
          mask = mask + (bits[k] or 2 ^ (k - 1))
          state.firstId = state.firstId or id
          state.requests, state.tokens = state.requests + 1, state.tokens + tokens
          state.count, state.used = state.count + 1, state.used + tokens
          state.dr, state.dt = state.dr + 1, state.dt + tokens
          state.oldest = state.oldest or now
        end
        if window + 60000 > ttl then
          ttl = window + 60000
        end
      end
      for k = 1, m do
        local state = budget(budgetsOf[k])
        state.spent = state.spent + cost
        state.added = state.added + cost
        state.admitted = true
      end
      if m > 0 then
        ttl = 172800000
      end
      registered[#registered + 1] = id
      local text = registryTexts[mask]
      if not text then
        text = admittedNow .. (maskTexts[mask] or mask)
        registryTexts[mask] = text
      end
      registered[#registered + 1] = text
    end
  elseif not open[id] then
    -- Already settled or released, or never admitted.
    count = count + 1
    results[count] = 0
  else
    local entry = open[id]
    local reservation = reservations[entry]
    if not reservation then
      local at, maskText = string.match(entry, '^(%d+):(%d+)$')
      at = tonumber(at)
      reservation = {at, tonumber(maskText), math.floor(at / 86400000)}
      reservations[entry] = reservation
    end
    local admittedAt, mask, reservedDay = reservation[1], reservation[2], reservation[3]
    open[id] = nil
    dropped[#dropped + 1] = id
    if kind == 's' then
      -- Tokens used instead of reserved, in every scope: a correction is counted (and leaves the window) with what it
      -- corrects even where the reservation itself was not logged.
      local delta = a
      if delta ~= 0 then
        for k = 1, n do
          local s = scopesOf[k]
          -- Still in the window (no expiry has reached it: time only moves on): corrected until it leaves. Else it has
          -- left, or leaves at the next expiry, with what it reserved: nothing to correct.
          if admittedAt > now - windows[s] then
            correct(load(s), admittedAt, id, 0, delta)
          end
        end
      end
      adjustBudgets(budgetsOf, reservedDay, b)
    else
      -- Released: the reservation no longer counts where it was logged.
      for k = 1, n do
        local s = scopesOf[k]
        if math.floor(mask / 2 ^ (k - 1)) % 2 == 1 and admittedAt > now - windows[s] then
          correct(load(s), admittedAt, id, -1, -a)
        end
      end
      adjustBudgets(budgetsOf, reservedDay, -b)
    end
    count = count + 1
    results[count] = 1
  end
end

-- What the batch adds, once per key. Every key of a scope gets the same TTL whenever the scope is written, so none
-- outlives the others (a total without the entries it counts, or entries without their total).
for s, state in pairs(scopes) do
  local log, totals, corrections = keysOf(s)
  local written = false
  if state.requests > 0 then
    redis.call('ZADD', log, now, state.firstId .. ':' .. state.requests .. ':' .. state.tokens)
    written = true
  end
  if #state.corrections > 0 then
    local members = {}
    for _, at in ipairs(state.corrections) do
      local group = state.correctedAt[at]
      members[#members + 1] = at
      members[#members + 1] = group[1] .. ':' .. group[2] .. ':' .. group[3]
    end
    redis.call('ZADD', corrections, unpack(members))
    written = true
  end
  if state.dr ~= 0 then
    redis.call('HINCRBY', totals, 'r', state.dr)
    written = true
  end
  if state.dt ~= 0 then
    redis.call('HINCRBY', totals, 't', state.dt)
    written = true
  end
  if written then
    local keep = windows[s] + 60000
    redis.call('PEXPIRE', log, keep)
    redis.call('PEXPIRE', totals, keep)
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
