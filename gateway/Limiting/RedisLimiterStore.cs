using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Gateway.Limiting;

/// <summary>
/// Counters shared by every replica, in Redis: one Lua script per decision (sent as EVALSHA; on NOSCRIPT, as after a
/// Redis restart, the script is sent again), all keys of a decision under one hash tag (one Redis Cluster slot), a TTL
/// on every key, and Redis server time unless the clock is set to <c>local</c>.
/// </summary>
public sealed class RedisLimiterStore : ILimiterStore
{
    private static readonly Script Acquire = Script.Load("SlidingWindow.lua");
    private static readonly Script Settle = Script.Load("Settle.lua");

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
        var keys = Keys(request);
        var args = new RedisValue[6 + 3 * scopes.Count];
        args[0] = _clock is null ? RedisValue.EmptyString : _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var member = Guid.NewGuid().ToString("N");
        args[1] = member;
        args[2] = scopes.Count;
        args[3] = request.Tokens;
        args[4] = request.DailyBudgetMicros ?? -1;
        args[5] = request.CostMicros;
        for (var i = 0; i < scopes.Count; i++)
        {
            var policy = scopes[i].Policy;
            args[6 + 3 * i] = (long)policy.Window.TotalMilliseconds;
            args[7 + 3 * i] = policy.Requests ?? -1;
            args[8 + 3 * i] = policy.Tokens ?? -1;
        }

        var result = (RedisResult[])(await RunAsync(Acquire, keys, args, cancellationToken))!;
        if ((long)result[0] == 0)
        {
            var index = (int)(long)result[1] - 1;
            var reason = (LimitReason)(int)(long)result[2];
            var retry = (long)result[3];
            return new LimitDecision(null, reason, index < scopes.Count ? scopes[index] : null,
                retry < 0 ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(Math.Max(retry, 1)), []);
        }

        var quotas = new ScopeQuota[scopes.Count];
        for (var i = 0; i < scopes.Count; i++)
        {
            var requestsLeft = (long)result[2 + 3 * i];
            var tokensLeft = (long)result[3 + 3 * i];
            quotas[i] = new ScopeQuota(scopes[i], requestsLeft < 0 ? null : requestsLeft, tokensLeft < 0 ? null : tokensLeft,
                TimeSpan.FromMilliseconds((long)result[4 + 3 * i]));
        }

        return new LimitDecision(new Lease(request, member, (long)result[1], this), null, null, TimeSpan.Zero, quotas);
    }

    public async ValueTask SettleAsync(Lease lease, long tokens, long costMicros, CancellationToken cancellationToken)
    {
        var request = lease.Request;
        RedisValue[] args = [lease.Member, request.Scopes.Count, tokens, costMicros - request.CostMicros, lease.Day];
        await RunAsync(Settle, Keys(request), args, cancellationToken);
    }

    private RedisKey[] Keys(AdmissionRequest request)
    {
        // The braces make the client id the hash tag: every key of one decision lives in one cluster slot.
        var tag = $"{{{_prefix}:{request.ClientId}}}:";
        var scopes = request.Scopes;
        var keys = new RedisKey[3 * scopes.Count + (request.DailyBudgetMicros is null ? 0 : 1)];
        for (var i = 0; i < scopes.Count; i++)
        {
            var scope = tag + scopes[i].Key;
            keys[3 * i] = scope + ":log";
            keys[3 * i + 1] = scope + ":tokens";
            keys[3 * i + 2] = scope + ":total";
        }

        if (request.DailyBudgetMicros is not null)
        {
            keys[^1] = tag + "budget";
        }

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
