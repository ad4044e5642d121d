using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Gateway.Limiting;

/// <summary>
/// Counters shared by every replica, in Redis. A client's operations — decisions, settlements, releases — go out in
/// order through one queue per client: while one script call is on its way, the operations arriving meanwhile wait and
/// then go together in the next call (up to <see cref="MaxBatch"/>), decided in arrival order by one atomic script
/// (<c>Batch.lua</c>). A lone request goes at once; under load one round trip and one script run serve many requests.
/// The script is sent as EVALSHA (on NOSCRIPT, as after a Redis restart or failover, it is sent again); all keys of a
/// client share one hash tag (one Redis Cluster slot); every key has a TTL; time is Redis server time unless the clock
/// is set to <c>local</c>. Each reservation is registered by id, so it is settled at most once, and a decision whose
/// answer never came back can be released.
/// </summary>
public sealed class RedisLimiterStore : ILimiterStore
{
    /// <summary>The most operations one script call carries.</summary>
    internal const int MaxBatch = 128;

    /// <summary>
    /// The version of the keys' layout (Batch.lua), in the name of every key but the budgets': replicas of another
    /// layout, as during a rolling upgrade, count apart until the window moves on (budgets are shared throughout).
    /// </summary>
    internal const string Layout = "v2:";

    private static readonly Script Batch = Script.Load("Batch.lua");

    private readonly IConnectionMultiplexer _redis;
    private readonly string _prefix;
    private readonly TimeProvider? _clock;
    private readonly LimiterMetrics? _metrics;
    private readonly TimeSpan _settleLinger;
    private readonly TimeProvider _timers;
    private readonly ConcurrentDictionary<string, ClientQueue> _queues = new(StringComparer.Ordinal);

    /// <param name="clock">The clock to decide with; null to use Redis server time.</param>
    /// <param name="settleLinger">How long a settlement may wait for the client's next decision to go out with it (0: at once).</param>
    /// <param name="timers">The time the linger is measured in (default: the system's).</param>
    public RedisLimiterStore(IConnectionMultiplexer redis, string keyPrefix, TimeProvider? clock, LimiterMetrics? metrics = null,
        TimeSpan settleLinger = default, TimeProvider? timers = null)
    {
        _redis = redis;
        _prefix = keyPrefix;
        _clock = clock;
        _metrics = metrics;
        _settleLinger = settleLinger;
        _timers = timers ?? TimeProvider.System;
    }

    public ValueTask<LimitDecision> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken)
        => new(Submit(new Operation(OperationKind.Acquire, request), cancellationToken));

    /// <summary>Ends when the settlement has run in Redis, which may be up to the settle linger later than the others.</summary>
    public ValueTask SettleAsync(Lease lease, long tokens, long costMicros, CancellationToken cancellationToken)
        => new(Submit(new Operation(OperationKind.Settle, lease.Request) { Used = tokens, CostDelta = costMicros - lease.Request.CostMicros }, cancellationToken));

    public ValueTask ReleaseAsync(AdmissionRequest request, CancellationToken cancellationToken)
        => new(Submit(new Operation(OperationKind.Release, request), cancellationToken));

    private Task<LimitDecision> Submit(Operation operation, CancellationToken cancellationToken)
    {
        var queue = _queues.GetOrAdd(operation.Request.ClientId, static (client, store) => new ClientQueue(store, client), this);
        queue.Submit(operation);
        // A cancelled wait leaves the operation queued: it still goes out, in order (a settlement late rather than lost).
        return cancellationToken.CanBeCanceled ? operation.Task.WaitAsync(cancellationToken) : operation.Task;
    }

    private async Task<RedisResult> RunAsync(RedisKey[] keys, RedisValue[] args)
    {
        var database = _redis.GetDatabase();
        try
        {
            return await database.ScriptEvaluateAsync(Batch.Sha1, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // Redis restarted (or failed over) and lost its script cache: EVAL sends the script and caches it again.
            return await database.ScriptEvaluateAsync(Batch.Text, keys, args).ConfigureAwait(false);
        }
    }

    private static readonly RedisValue Acquire = "a";
    private static readonly RedisValue Settle = "s";
    private static readonly RedisValue Release = "r";

    private enum OperationKind
    {
        Acquire,
        Settle,
        Release,
    }

    /// <summary>One queued operation; its task ends with the decision (acquire) or null (settle, release).</summary>
    private sealed class Operation(OperationKind kind, AdmissionRequest request)
        : TaskCompletionSource<LimitDecision>
    {
        public OperationKind Kind { get; } = kind;

        public AdmissionRequest Request { get; } = request;

        /// <summary>Settle: the tokens used.</summary>
        public long Used { get; init; }

        /// <summary>Settle: the cost used minus the cost reserved.</summary>
        public long CostDelta { get; init; }
    }

    /// <summary>One client's operations, sent in order, at most one script call at a time, batched while one is out.</summary>
    private sealed class ClientQueue(RedisLimiterStore store, string clientId)
    {
        private const int MaxCachedKeys = 4096;

        private readonly Lock _gate = new();
        // The braces make the client id the hash tag: every key of the client lives in one cluster slot.
        private readonly string _tag = $"{{{store._prefix}:{clientId}}}:";
        private readonly Dictionary<string, RedisKey> _keys = new(StringComparer.Ordinal);
        private readonly Dictionary<string, RedisKey> _logKeys = new(StringComparer.Ordinal);
        private readonly Dictionary<string, RedisKey> _totalKeys = new(StringComparer.Ordinal);
        private readonly Dictionary<string, RedisKey> _correctionKeys = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (int Index, LimitPolicy Policy)> _scopes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (int Index, long Cap)> _budgets = new(StringComparer.Ordinal);
        private readonly Dictionary<ScopeSet, int> _sets = new(ScopeSet.Comparer);
        private readonly List<ScopeSet> _setOrder = [];
        private List<Operation> _waiting = [];
        private bool _busy;
        private bool _lingering;
        private ITimer? _linger;

        public void Submit(Operation operation)
        {
            lock (_gate)
            {
                _waiting.Add(operation);
                if (_busy)
                {
                    return;
                }

                // A settlement on an idle queue waits a little for a decision to go out with.
                if (operation.Kind == OperationKind.Settle && store._settleLinger > TimeSpan.Zero)
                {
                    if (!_lingering)
                    {
                        _lingering = true;
                        _linger ??= store._timers.CreateTimer(static state => ((ClientQueue)state!).LingerEnded(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                        _linger.Change(store._settleLinger, Timeout.InfiniteTimeSpan);
                    }

                    return;
                }

                _busy = true;
            }

            SendNext();
        }

        private void LingerEnded()
        {
            lock (_gate)
            {
                _lingering = false;
                if (_busy || _waiting.Count == 0)
                {
                    return;
                }

                _busy = true;
            }

            SendNext();
        }

        // Sends what waits, if anything (else the queue is idle again). One call is out at a time: the next goes when
        // the answer to this one has come.
        private void SendNext()
        {
            List<Operation> batch;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _busy = false;
                    return;
                }

                if (_waiting.Count <= MaxBatch)
                {
                    (batch, _waiting) = (_waiting, []);
                }
                else
                {
                    batch = _waiting.GetRange(0, MaxBatch);
                    _waiting.RemoveRange(0, MaxBatch);
                }
            }

            _ = SendAsync(batch);
        }

        private async Task SendAsync(List<Operation> batch)
        {
            RedisResult[]? results = null;
            Exception? failure = null;
            store._metrics?.Batch(batch.Count);
            try
            {
                var (keys, args) = Build(batch);
                results = (RedisResult[])(await store.RunAsync(keys, args).ConfigureAwait(false))!;
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            // The next call goes out first; then this one's callers resume, on this thread (no hop per operation).
            SendNext();
            var at = 0;
            for (var i = 0; i < batch.Count; i++)
            {
                var operation = batch[i];
                if (failure is not null)
                {
                    // Every operation of the call shares its fate: sent or not, answered or not.
                    operation.TrySetException(failure);
                }
                else if (operation.Kind == OperationKind.Acquire)
                {
                    operation.TrySetResult(Decision(operation.Request, results!, ref at));
                }
                else
                {
                    at++;
                    operation.TrySetResult(null!);
                }
            }
        }

        // One decision read from the script's flat answer at `at` (Batch.lua), which is moved past it.
        private LimitDecision Decision(AdmissionRequest request, RedisResult[] results, ref int at)
        {
            var scopes = request.Scopes;
            if ((long)results[at] == 0)
            {
                var reason = (LimitReason)(int)(long)results[at + 1];
                var index = (int)(long)results[at + 2] - 1;
                var retry = (long)results[at + 3];
                at += 4;
                var retryAfter = retry < 0 ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(Math.Max(retry, 1));
                return reason == LimitReason.Budget
                    ? LimitDecision.Refused(reason, null, retryAfter, request.Budgets[index])
                    : LimitDecision.Refused(reason, scopes[index], retryAfter);
            }

            var day = (long)results[at + 1];
            at += 2;
            var quotas = new ScopeQuota[scopes.Length];
            for (var i = 0; i < scopes.Length; i++, at += 3)
            {
                var requestsLeft = (long)results[at];
                var tokensLeft = (long)results[at + 1];
                quotas[i] = new ScopeQuota(scopes[i], requestsLeft < 0 ? null : requestsLeft, tokensLeft < 0 ? null : tokensLeft,
                    TimeSpan.FromMilliseconds((long)results[at + 2]));
            }

            var lease = new Lease(request, day, store);
            return new LimitDecision(lease, null, null, TimeSpan.Zero, quotas);
        }

        // KEYS: registry, per distinct scope its log, totals and corrections, then the distinct budgets. ARGV: see Batch.lua
        // (a scope's policy and a budget's cap are sent once, as the batch's first operation on it has them; each distinct
        // list of scopes and budgets once, the operations naming theirs by number).
        private (RedisKey[] Keys, RedisValue[] Args) Build(List<Operation> batch)
        {
            _scopes.Clear();
            _budgets.Clear();
            _sets.Clear();
            _setOrder.Clear();
            var ids = 0;
            var setArgs = 0;
            Span<int> setOf = batch.Count <= MaxBatch ? stackalloc int[batch.Count] : new int[batch.Count];
            AdmissionRequest? previous = null;
            for (var i = 0; i < batch.Count; i++)
            {
                var operation = batch[i];
                var request = operation.Request;
                if (operation.Kind != OperationKind.Acquire)
                {
                    ids++;
                }

                // The operations of one client mostly carry the same arrays (its prepared scopes and budgets): no lookup then.
                if (previous is not null && ReferenceEquals(request.Scopes, previous.Scopes) && ReferenceEquals(request.Budgets, previous.Budgets))
                {
                    setOf[i] = setOf[i - 1];
                    previous = request;
                    continue;
                }

                previous = request;
                var set = new ScopeSet(request.Scopes, request.Budgets);
                if (!_sets.TryGetValue(set, out var index))
                {
                    foreach (var scope in request.Scopes)
                    {
                        _scopes.TryAdd(scope.Key, (_scopes.Count + 1, scope.Policy));
                    }

                    foreach (var budget in request.Budgets)
                    {
                        _budgets.TryAdd(budget.Key, (_budgets.Count + 1, budget.CapMicros));
                    }

                    _setOrder.Add(set);
                    _sets[set] = index = _setOrder.Count;
                    setArgs += 2 + request.Scopes.Length + request.Budgets.Length;
                }

                setOf[i] = index;
            }

            var keys = new RedisKey[1 + 3 * _scopes.Count + _budgets.Count];
            var args = new RedisValue[5 + ids + 3 * _scopes.Count + _budgets.Count + setArgs + 5 * batch.Count];
            keys[0] = Key(Layout + "reservations");
            args[0] = store._clock is null ? RedisValue.EmptyString : store._clock.GetUtcNow().ToUnixTimeMilliseconds();
            args[1] = _scopes.Count;
            args[2] = _budgets.Count;
            args[3] = ids;
            args[4] = _setOrder.Count;
            var at = 5;
            foreach (var operation in batch)
            {
                if (operation.Kind != OperationKind.Acquire)
                {
                    args[at++] = operation.Request.Id;
                }
            }

            foreach (var (scope, (index, policy)) in _scopes)
            {
                keys[3 * index - 2] = Key(scope, ":log");
                keys[3 * index - 1] = Key(scope, ":totals");
                keys[3 * index] = Key(scope, ":corrections");
                var slot = at + 3 * (index - 1);
                args[slot] = (long)policy.Window.TotalMilliseconds;
                args[slot + 1] = policy.Requests ?? -1;
                args[slot + 2] = policy.Tokens ?? -1;
            }

            at += 3 * _scopes.Count;
            foreach (var (budget, (index, cap)) in _budgets)
            {
                keys[3 * _scopes.Count + index] = Key(budget);
                args[at + index - 1] = cap;
            }

            at += _budgets.Count;
            foreach (var set in _setOrder)
            {
                args[at++] = set.Scopes.Length;
                foreach (var scope in set.Scopes)
                {
                    args[at++] = _scopes[scope.Key].Index;
                }

                args[at++] = set.Budgets.Length;
                foreach (var budget in set.Budgets)
                {
                    args[at++] = _budgets[budget.Key].Index;
                }
            }

            for (var i = 0; i < batch.Count; i++)
            {
                var operation = batch[i];
                var request = operation.Request;
                args[at++] = operation.Kind switch { OperationKind.Acquire => Acquire, OperationKind.Settle => Settle, _ => Release };
                args[at++] = request.Id;
                if (operation.Kind == OperationKind.Settle)
                {
                    args[at++] = operation.Used - request.Tokens;
                    args[at++] = operation.CostDelta;
                }
                else
                {
                    args[at++] = request.Tokens;
                    args[at++] = request.CostMicros;
                }

                args[at++] = setOf[i];
            }

            return (keys, args);
        }

        // Key names are made once per client and scope (per-user scopes come and go: at most MaxCachedKeys are kept).
        private RedisKey Key(string name, string part = "")
        {
            var cache = part switch
            {
                ":log" => _logKeys,
                ":totals" => _totalKeys,
                ":corrections" => _correctionKeys,
                _ => _keys,
            };
            if (cache.TryGetValue(name, out var key))
            {
                return key;
            }

            // A scope's keys (and the registry) carry the layout version; a budget's keep their name across versions.
            key = part.Length == 0 ? string.Concat(_tag, name) : string.Concat(_tag, Layout, name, part);
            if (cache.Count < MaxCachedKeys)
            {
                cache[name] = key;
            }

            return key;
        }
    }

    /// <summary>The scopes and budgets of an operation, equal to another's when they name the same keys in the same order.</summary>
    private readonly record struct ScopeSet(LimitScope[] Scopes, BudgetScope[] Budgets)
    {
        public static readonly IEqualityComparer<ScopeSet> Comparer = new KeyComparer();

        private sealed class KeyComparer : IEqualityComparer<ScopeSet>
        {
            public bool Equals(ScopeSet x, ScopeSet y)
            {
                if (x.Scopes.Length != y.Scopes.Length || x.Budgets.Length != y.Budgets.Length)
                {
                    return false;
                }

                for (var i = 0; i < x.Scopes.Length; i++)
                {
                    if (!string.Equals(x.Scopes[i].Key, y.Scopes[i].Key, StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                for (var i = 0; i < x.Budgets.Length; i++)
                {
                    if (!string.Equals(x.Budgets[i].Key, y.Budgets[i].Key, StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                return true;
            }

            public int GetHashCode(ScopeSet set)
            {
                var hash = new HashCode();
                foreach (var scope in set.Scopes)
                {
                    hash.Add(scope.Key, StringComparer.Ordinal);
                }

                hash.Add(set.Budgets.Length);
                foreach (var budget in set.Budgets)
                {
                    hash.Add(budget.Key, StringComparer.Ordinal);
                }

                return hash.ToHashCode();
            }
        }
    }

    private sealed record Script(string Text, byte[] Sha1)
    {
        public static Script Load(string name)
        {
            using var stream = typeof(RedisLimiterStore).Assembly.GetManifestResourceStream("Gateway.Limiting." + name)
                ?? throw new InvalidOperationException($"Embedded script {name} is missing.");
            using var reader = new StreamReader(stream);
            var text = reader.ReadToEnd();
            return new Script(text, SHA1.HashData(Encoding.UTF8.GetBytes(text)));
        }
    }
}
