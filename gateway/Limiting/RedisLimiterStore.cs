using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Gateway.Limiting;

/// <summary>
/// Counters shared by every replica, in Redis: one Lua script per decision (sent as EVALSHA; on NOSCRIPT, as after a
/// Redis restart or failover, the script is sent again), all keys of a decision under one hash tag (one Redis Cluster
/// slot), a TTL on every key, and Redis server time unless the clock is set to <c>local</c>. Each reservation is
/// registered by id, so it is settled at most once, and a decision whose answer never came back can be released.
/// </summary>
public sealed class RedisLimiterStore : ILimiterStore
{
    private static readonly Script Acquire = Script.Load("SlidingWindow.lua");
    private static readonly Script Settle = Script.Load("Settle.lua");
    private static readonly Script Release = Script.Load("Release.lua");

    private readonly IConnectionMultiplexer _redis;
    private readonly string _prefix;
    private readonly TimeProvider? _clock;

    /// <param name="clock">The clock to decide with; null to use Redis server time.</param>
    public RedisLimiterStore(IConnectionMultiplexer redis, string keyPrefix, TimeProvider? clock)
    {
        _redis = redis;
        _prefix = keyPrefix;
        _clock = clock;
    }

    public async ValueTask<LimitDecision> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var scopes = request.Scopes;
        var budgets = request.Budgets;
        var args = new RedisValue[6 + 3 * scopes.Count + budgets.Count];
        args[0] = _clock is null ? RedisValue.EmptyString : _clock.GetUtcNow().ToUnixTimeMilliseconds();
        args[1] = request.Id;
        args[2] = scopes.Count;
        args[3] = budgets.Count;
        args[4] = request.Tokens;
        args[5] = request.CostMicros;
        for (var i = 0; i < scopes.Count; i++)
        {
            var policy = scopes[i].Policy;
            args[6 + 3 * i] = (long)policy.Window.TotalMilliseconds;
            args[7 + 3 * i] = policy.Requests ?? -1;
            args[8 + 3 * i] = policy.Tokens ?? -1;
        }

        for (var j = 0; j < budgets.Count; j++)
        {
            args[6 + 3 * scopes.Count + j] = budgets[j].CapMicros;
        }

        var result = (RedisResult[])(await RunAsync(Acquire, Keys(request), args, cancellationToken))!;
        if ((long)result[0] == 0)
        {
            var reason = (LimitReason)(int)(long)result[1];
            var index = (int)(long)result[2] - 1;
            var retry = (long)result[3];
            var retryAfter = retry < 0 ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(Math.Max(retry, 1));
            return reason == LimitReason.Budget
                ? LimitDecision.Refused(reason, null, retryAfter, budgets[index])
                : LimitDecision.Refused(reason, scopes[index], retryAfter);
        }

        var quotas = new ScopeQuota[scopes.Count];
        for (var i = 0; i < scopes.Count; i++)
        {
            var requestsLeft = (long)result[2 + 3 * i];
            var tokensLeft = (long)result[3 + 3 * i];
            quotas[i] = new ScopeQuota(scopes[i], requestsLeft < 0 ? null : requestsLeft, tokensLeft < 0 ? null : tokensLeft,
                TimeSpan.FromMilliseconds((long)result[4 + 3 * i]));
        }

        return new LimitDecision(new Lease(request, (long)result[1], this), null, null, TimeSpan.Zero, quotas);
    }

    public async ValueTask SettleAsync(Lease lease, long tokens, long costMicros, CancellationToken cancellationToken)
    {
        var request = lease.Request;
        RedisValue[] args = [request.Id, request.Scopes.Count, request.Budgets.Count, request.Tokens, tokens, costMicros - request.CostMicros];
        await RunAsync(Settle, Keys(request), args, cancellationToken);
    }

    public async ValueTask ReleaseAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        RedisValue[] args = [request.Id, request.Scopes.Count, request.Budgets.Count, request.Tokens, request.CostMicros];
        await RunAsync(Release, Keys(request), args, cancellationToken);
    }

    private RedisKey[] Keys(AdmissionRequest request)
    {
        // The braces make the client id the hash tag: every key of one decision lives in one cluster slot.
        var tag = $"{{{_prefix}:{request.ClientId}}}:";
        var scopes = request.Scopes;
        var budgets = request.Budgets;
        var keys = new RedisKey[2 * scopes.Count + budgets.Count + 1];
        for (var i = 0; i < scopes.Count; i++)
        {
            var scope = tag + scopes[i].Key;
            keys[2 * i] = scope + ":log";
            keys[2 * i + 1] = scope + ":total";
        }

        for (var j = 0; j < budgets.Count; j++)
        {
            keys[2 * scopes.Count + j] = tag + budgets[j].Key;
        }

        keys[^1] = tag + "reservations";
        return keys;
    }

    private async Task<RedisResult> RunAsync(Script script, RedisKey[] keys, RedisValue[] args, CancellationToken cancellationToken)
    {
        var database = _redis.GetDatabase();
        try
        {
            return await database.ScriptEvaluateAsync(script.Sha1, keys, args).WaitAsync(cancellationToken);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // Redis restarted (or failed over) and lost its script cache: EVAL sends the script and caches it again.
            return await database.ScriptEvaluateAsync(script.Text, keys, args).WaitAsync(cancellationToken);
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
