using System.Collections.Concurrent;

namespace Gateway.Limiting;

/// <summary>
/// The same sliding windows and budgets as <see cref="RedisLimiterStore"/>, in this process: for a single instance
/// without Redis, and as the fail-open fallback when Redis is down. Time comes from the injected clock; each client's
/// counters are behind one lock, held only for the decision itself (no await inside).
/// </summary>
public sealed class LocalLimiterStore(TimeProvider time) : ILimiterStore
{
    private const long DayMs = 86_400_000;
    private const int SweepEvery = 1024;

    /// <summary>The most reservations a token refusal looks at to say when enough tokens leave (the Redis store's bound too).</summary>
    internal const int RetryWalk = 8;

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
        var request = lease.Request;
        if (_clients.TryGetValue(request.ClientId, out var client))
        {
            lock (client)
            {
                if (client.Open.Remove(request.Sequence, out var reservation))
                {
                    Adjust(client, request, reservation, tokens - request.Tokens, costMicros - request.CostMicros, remove: false);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ReleaseAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        if (_clients.TryGetValue(request.ClientId, out var client))
        {
            lock (client)
            {
                if (client.Open.Remove(request.Sequence, out var reservation))
                {
                    Adjust(client, request, reservation, -request.Tokens, -request.CostMicros, remove: true);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    private static void Adjust(ClientCounters client, AdmissionRequest request, Reservation reservation, long tokenDelta, long costDelta, bool remove)
    {
        var positions = reservation.Positions;
        for (var i = 0; i < positions.Length; i++)
        {
            if (positions[i] >= 0 && client.Scopes.TryGetValue(request.Scopes[i].Key, out var log))
            {
                log.Adjust(positions[i], request.Sequence, tokenDelta, remove);
            }
        }

        var day = reservation.Day;
        foreach (var budget in request.Budgets)
        {
            if (client.Budgets.TryGetValue(budget.Key, out var days) && days.TryGetValue(day, out var spent))
            {
                days[day] = spent + costDelta;
            }
        }
    }

    private LimitDecision Acquire(ClientCounters client, AdmissionRequest request, long now)
    {
        if (++client.Decisions % SweepEvery == 0)
        {
            client.Sweep(now);
        }

        var scopes = request.Scopes;
        Span<int> counts = stackalloc int[scopes.Length];
        for (var i = 0; i < scopes.Length; i++)
        {
            var scope = scopes[i];
            var window = (long)scope.Policy.Window.TotalMilliseconds;
            if (!client.Scopes.TryGetValue(scope.Key, out var log))
            {
                client.Scopes[scope.Key] = log = new ScopeLog(window);
            }

            log.Expire(now - window);
            var oldest = log.Oldest ?? now;
            if (scope.Policy.Requests is { } requests && log.Count + 1 > requests)
            {
                return Refuse(LimitReason.Requests, scope, oldest + window - now);
            }

            if (scope.Policy.Tokens is { } tokens && log.Total + request.Tokens > tokens)
            {
                return request.Tokens > tokens
                    ? LimitDecision.Refused(LimitReason.Tokens, scope, TimeSpan.MaxValue)
                    : Refuse(LimitReason.Tokens, scope, log.WhenFreed(log.Total + request.Tokens - tokens, now) + window - now);
            }

            counts[i] = log.Count;
        }

        var day = now / DayMs;
        foreach (var budget in request.Budgets)
        {
            if (client.Spent(budget.Key, day) + request.CostMicros > budget.CapMicros)
            {
                return LimitDecision.Refused(LimitReason.Budget, null, TimeSpan.FromMilliseconds((day + 1) * DayMs - now), budget);
            }
        }

        var quotas = new ScopeQuota[scopes.Length];
        var positions = scopes.Length == 0 ? [] : new long[scopes.Length];
        for (var i = 0; i < scopes.Length; i++)
        {
            var log = client.Scopes[scopes[i].Key];
            var policy = scopes[i].Policy;
            var window = (long)policy.Window.TotalMilliseconds;
            quotas[i] = new ScopeQuota(scopes[i], policy.Requests - counts[i] - 1, policy.Tokens - log.Total - request.Tokens,
                TimeSpan.FromMilliseconds((log.Oldest ?? now) + window - now));
            positions[i] = policy.Requests is not null || request.Tokens != 0 ? log.Add(now, request.Sequence, request.Tokens) : -1;
        }

        foreach (var budget in request.Budgets)
        {
            client.Spend(budget.Key, day, request.CostMicros);
        }

        client.Open[request.Sequence] = new Reservation(day, positions);
        return new LimitDecision(new Lease(request, day, this), null, null, TimeSpan.Zero, quotas);
    }

    private static LimitDecision Refuse(LimitReason reason, LimitScope? scope, long retryMs)
        => LimitDecision.Refused(reason, scope, TimeSpan.FromMilliseconds(Math.Max(retryMs, 1)));

    private sealed class ClientCounters
    {
        public Dictionary<string, ScopeLog> Scopes { get; } = new(StringComparer.Ordinal);

        /// <summary>Spent micro-USD by budget key and UTC day.</summary>
        public Dictionary<string, Dictionary<long, long>> Budgets { get; } = new(StringComparer.Ordinal);

        /// <summary>Open reservations by id: settled or released once.</summary>
        public Dictionary<long, Reservation> Open { get; } = [];

        public long Decisions { get; set; }

        public long Spent(string key, long day) => Budgets.TryGetValue(key, out var days) ? days.GetValueOrDefault(day) : 0;

        public void Spend(string key, long day, long cost)
        {
            if (!Budgets.TryGetValue(key, out var days))
            {
                Budgets[key] = days = [];
            }

            days[day] = days.GetValueOrDefault(day) + cost;
            if (days.Count > 1)
            {
                foreach (var old in days.Keys.Where(d => d < day).ToList())
                {
                    days.Remove(old);
                }
            }
        }

        // Per-user scopes and budgets come and go; drop the ones that hold nothing now, so memory stays bounded.
        public void Sweep(long now)
        {
            foreach (var (key, log) in Scopes.ToList())
            {
                log.Expire(now - log.WindowMs);
                if (log.Count == 0)
                {
                    Scopes.Remove(key);
                }
            }

            var today = now / DayMs;
            foreach (var (key, days) in Budgets.ToList())
            {
                if (days.Keys.All(d => d < today))
                {
                    Budgets.Remove(key);
                }
            }

            // A reservation never settled (its request vanished) is forgotten after a day.
            foreach (var (id, reservation) in Open.ToList())
            {
                if (reservation.Day < today - 1)
                {
                    Open.Remove(id);
                }
            }
        }
    }

    /// <summary>An open reservation: its UTC day (for the budgets) and its place in each scope's log (-1: not logged there).</summary>
    private readonly record struct Reservation(long Day, long[] Positions);

    /// <summary>One reservation in a window: a value in the log's ring, so a window of any size allocates nothing per request.</summary>
    private struct Entry(long at, long member, long tokens)
    {
        public long At = at;

        /// <summary>
        /// The reservation's id (<see cref="AdmissionRequest.Sequence"/>, from 1); 0 once released (still in the ring until
        /// it would have expired, no longer counted).
        /// </summary>
        public long Member = member;

        public long Tokens = tokens;
    }

    /// <summary>
    /// A scope's reservations in admission order, in a ring of values grown by doubling and addressed by absolute
    /// position. The open reservation keeps its positions, so settling one goes straight to its entry: no index by id,
    /// which took an insert and a removal per request at random places in a table as large as the window (a busy
    /// client's minute at 10k requests/s: ~600,000 entries, half of the 50 MB its window took). What is read and written
    /// per request is the ring's two ends and a recent entry.
    /// </summary>
    private sealed class ScopeLog(long windowMs)
    {
        private Entry[] _ring = new Entry[16];
        private long _head;
        private long _tail;

        public long WindowMs { get; } = windowMs;

        public long Total { get; private set; }

        /// <summary>Reservations counted in the window.</summary>
        public int Count { get; private set; }

        public long? Oldest
        {
            get
            {
                for (var position = _head; position < _tail; position++)
                {
                    ref var entry = ref At(position);
                    if (entry.Member != 0)
                    {
                        return entry.At;
                    }
                }

                return null;
            }
        }

        private ref Entry At(long position) => ref _ring[position & (_ring.Length - 1)];

        /// <summary>Logs a reservation; returns its position.</summary>
        public long Add(long at, long member, long tokens)
        {
            if (_tail - _head == _ring.Length)
            {
                var larger = new Entry[_ring.Length * 2];
                for (var position = _head; position < _tail; position++)
                {
                    larger[position & (larger.Length - 1)] = At(position);
                }

                _ring = larger;
            }

            At(_tail) = new Entry(at, member, tokens);
            Total += tokens;
            Count++;
            return _tail++;
        }

        /// <summary>
        /// Changes the reservation at <paramref name="position"/> by <paramref name="delta"/> tokens, and uncounts it when
        /// removed; nothing once it has left the window or was released (the member no longer there: a log dropped by the
        /// sweep and made again numbers its positions from 0).
        /// </summary>
        public void Adjust(long position, long member, long delta, bool remove)
        {
            if (position < _head || position >= _tail)
            {
                return;
            }

            ref var entry = ref At(position);
            if (entry.Member != member)
            {
                return;
            }

            Total += delta;
            entry.Tokens += delta;
            if (remove)
            {
                entry.Member = 0;
                Count--;
            }
        }

        public void Expire(long cutoff)
        {
            while (_head < _tail && At(_head).At <= cutoff)
            {
                ref var entry = ref At(_head);
                if (entry.Member != 0)
                {
                    Count--;
                    Total -= entry.Tokens;
                }

                _head++;
            }
        }

        // When enough tokens leave, from the oldest reservations, at most RetryWalk of them (an early bound past those).
        public long WhenFreed(long need, long now)
        {
            long freed = 0;
            var at = now;
            var seen = 0;
            for (var position = _head; position < _tail; position++)
            {
                ref var entry = ref At(position);
                if (entry.Member == 0)
                {
                    continue;
                }

                freed += entry.Tokens;
                at = entry.At;
                if (freed >= need || ++seen >= RetryWalk)
                {
                    break;
                }
            }

            return at;
        }
    }
}
