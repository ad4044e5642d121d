using Gateway.Limiting;
using NUnit.Framework;
using StackExchange.Redis;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// What a client's limiter scope holds in Redis, read as <c>Batch.lua</c> lays it out: the requests and tokens counted in
/// the window (its totals), checked against the log of admissions and the corrections they sum up every time.
/// </summary>
public static class RedisLimiterState
{
    public static RedisKey Key(string prefix, string client, string name) => $"{{{prefix}:{client}}}:{RedisLimiterStore.Layout}{name}";

    /// <summary>The client's registry of open reservations (admitted, not yet settled or released).</summary>
    public static RedisKey Registry(string prefix, string client) => Key(prefix, client, "reservations");

    /// <summary>The scope's log of admissions.</summary>
    public static RedisKey Log(string prefix, string client, string scope = "client") => Key(prefix, client, scope + ":log");

    /// <summary>The requests and tokens the scope counts; asserts they are what its log and corrections hold.</summary>
    public static async Task<(long Requests, long Tokens)> CountedAsync(IDatabase database, string prefix, string client, string scope = "client")
    {
        // Read at once (one script): a batch run between separate reads would change one and not the others. A script,
        // unlike MULTI, follows a slot that moved (Redis Cluster failover).
        var read = (RedisResult[])(await database.ScriptEvaluateAsync(
            "local t = redis.call('HMGET', KEYS[1], 'r', 't') return {t[1] or '0', t[2] or '0', redis.call('ZRANGE', KEYS[2], 0, -1), redis.call('ZRANGE', KEYS[3], 0, -1)}",
            [Key(prefix, client, scope + ":totals"), Log(prefix, client, scope), Key(prefix, client, scope + ":corrections")]))!;
        var counted = ((long)read[0], (long)read[1]);
        var summed = Sum((RedisValue[])read[2]!).Add(Sum((RedisValue[])read[3]!));
        Assert.That(counted, Is.EqualTo(summed), $"the totals of {client}/{scope} are the sum of its log and corrections");
        return counted;
    }

    // Members are "firstId:requests:tokens".
    private static (long Requests, long Tokens) Sum(RedisValue[] members)
    {
        long requests = 0, tokens = 0;
        foreach (var member in members)
        {
            var parts = member.ToString().Split(':');
            requests += long.Parse(parts[^2], System.Globalization.CultureInfo.InvariantCulture);
            tokens += long.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture);
        }

        return (requests, tokens);
    }

    private static (long, long) Add(this (long Requests, long Tokens) a, (long Requests, long Tokens) b) => (a.Requests + b.Requests, a.Tokens + b.Tokens);
}
