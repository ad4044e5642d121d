using System.Collections.Concurrent;

namespace Gateway.Limiting;

/// <summary>
/// The same sliding windows and budgets as <see cref="RedisLimiterStore"/>, in this process: for a single instance
/// without Redis, and as the fail-open fallback when Redis is down. Time comes from the injected clock.
/// </summary>
public sealed class LocalLimiterStore(TimeProvider time) : ILimiterStore
{
    private const long DayMs = 86_400_000;
    private const int SweepEvery = 1024;
    private readonly ConcurrentDictionary<string, ClientCounters> _clients = new(StringComparer.Ordinal);

    public ValueTask<LimitDecision> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var client = _clients.GetOrAdd(request.ClientId, static _ => new ClientCounters());
        lock (client)
        {
            return ValueTask.FromResult(Acquire(client, request, now));
        }
    }

    public ValueTask SettleAsync(Lease lease, long tokens, long costMicros, CancellationToken cancellationToken)
    {
        if (!_clients.TryGetValue(lease.Request.ClientId, out var client))
        {
            return ValueTask.CompletedTask;
        }

        lock (client)
        {
            foreach (var scope in lease.Request.Scopes)
            {
                if (client.Scopes.TryGetValue(scope.Key, out var log) && log.ByMember.TryGetValue(lease.Member, out var entry))
                {
                    log.Total += tokens - entry.Tokens;
                    entry.Tokens = tokens;
                }
            }

            if (lease.Request.DailyBudgetMicros is not null && client.Budget.TryGetValue(lease.Day, out var spent))
            {
                client.Budget[lease.Day] = spent + costMicros - lease.Request.CostMicros;
            }
        }

        return ValueTask.CompletedTask;
    }

    private LimitDecision Acquire(ClientCounters client, AdmissionRequest request, long now)
    {
        if (++client.Decisions % SweepEvery == 0)
        {
            client.Sweep(now);
        }

        var scopes = request.Scopes;
        var logs = new ScopeLog[scopes.Count];
        for (var i = 0; i < scopes.Count; i++)
        {
            var scope = scopes[i];
            var window = (long)scope.Policy.Window.TotalMilliseconds;
            if (!client.Scopes.TryGetValue(scope.Key, out var log))
            {
                client.Scopes[scope.Key] = log = new ScopeLog(window);
            }

            log.Expire(now - window);
            logs[i] = log;
            var oldest = log.Entries.Count > 0 ? log.Entries.Peek().At : now;
            if (scope.Policy.Requests is { } requests && log.Entries.Count + 1 > requests)
            {
                return Refuse(LimitReason.Requests, scope, oldest + window - now);
            }

            if (scope.Policy.Tokens is { } tokens && log.Total + request.Tokens > tokens)
            {
                return request.Tokens > tokens
                    ? new LimitDecision(null, LimitReason.Tokens, scope, TimeSpan.MaxValue, [])
                    : Refuse(LimitReason.Tokens, scope, log.WhenFreed(log.Total + request.Tokens - tokens, window) - now);
            }
        }

        var day = now / DayMs;
        if (request.DailyBudgetMicros is { } cap && client.Budget.GetValueOrDefault(day) + request.CostMicros > cap)
        {
            return Refuse(LimitReason.Budget, null, (day + 1) * DayMs - now);
        }

        var member = Guid.NewGuid().ToString("N");
        var quotas = new ScopeQuota[scopes.Count];
        for (var i = 0; i < scopes.Count; i++)
        {
            var log = logs[i];
            var policy = scopes[i].Policy;
            var oldest = log.Entries.Count > 0 ? log.Entries.Peek().At : now;
            quotas[i] = new ScopeQuota(scopes[i], policy.Requests - log.Entries.Count - 1, policy.Tokens - log.Total - request.Tokens,
                TimeSpan.FromMilliseconds(oldest + (long)policy.Window.TotalMilliseconds - now));
            log.Add(new Entry(now, member, request.Tokens));
        }

        if (request.DailyBudgetMicros is not null)
        {
            client.Budget[day] = client.Budget.GetValueOrDefault(day) + request.CostMicros;
            client.Budget.Keys.Where(d => d < day).ToList().ForEach(d => client.Budget.Remove(d));
        }

        return new LimitDecision(new Lease(request, member, day, this), null, null, TimeSpan.Zero, quotas);
    }

    private static LimitDecision Refuse(LimitReason reason, LimitScope? scope, long retryMs)
        => new(null, reason, scope, TimeSpan.FromMilliseconds(Math.Max(retryMs, 1)), []);

    private sealed class ClientCounters
    {
        public Dictionary<string, ScopeLog> Scopes { get; } = new(StringComparer.Ordinal);

        public Dictionary<long, long> Budget { get; } = [];

        public long Decisions { get; set; }

        // Per-user scopes come and go; drop the ones whose window has emptied so memory stays bounded.
        public void Sweep(long now)
        {
            foreach (var (key, log) in Scopes.ToList())
            {
                log.Expire(now - log.WindowMs);
                if (log.Entries.Count == 0)
                {
                    Scopes.Remove(key);
                }
            }
        }
    }

    private sealed class Entry(long at, string member, long tokens)
    {
        public long At { get; } = at;

        public string Member { get; } = member;

        public long Tokens { get; set; } = tokens;
    }

    private sealed class ScopeLog(long windowMs)
    {
        public long WindowMs { get; } = windowMs;

        public Queue<Entry> Entries { get; } = new();

        public Dictionary<string, Entry> ByMember { get; } = new(StringComparer.Ordinal);

        public long Total { get; set; }

        public void Add(Entry entry)
        {
            Entries.Enqueue(entry);
            ByMember[entry.Member] = entry;
            Total += entry.Tokens;
        }

        public void Expire(long cutoff)
        {
            while (Entries.Count > 0 && Entries.Peek().At <= cutoff)
            {
                var entry = Entries.Dequeue();
                ByMember.Remove(entry.Member);
                Total -= entry.Tokens;
            }
        }

        public long WhenFreed(long need, long window)
        {
            long freed = 0;
            foreach (var entry in Entries)
            {
                freed += entry.Tokens;
                if (freed >= need)
                {
                    return entry.At + window;
                }
            }

            // Unreachable while tokens <= limit (freeing every entry frees the whole total); kept total for safety.
            return Entries.Count > 0 ? Entries.Last().At + window : window;
        }
    }
}
