using Gateway.Hosting;
using StackExchange.Redis;

namespace Gateway.Limiting;

/// <summary>
/// Decides admission: on Redis when <c>ConnectionStrings:Redis</c> is set, else in process. When Redis fails or is
/// slower than <see cref="RateLimitingOptions.RedisTimeout"/>, each policy's failure mode applies: <c>closed</c> refuses
/// (503), <c>open</c> falls back to a local limiter at limit ÷ ExpectedReplicas. Redis is used again as soon as it answers.
/// </summary>
public sealed partial class RateLimiter
{
    private readonly GatewaySettingsMonitor _settings;
    private readonly ILimiterStore? _redis;
    private readonly LocalLimiterStore _local;
    private readonly LocalLimiterStore _fallback;
    private readonly TimeProvider _time;
    private readonly ILogger<RateLimiter> _logger;

    public RateLimiter(GatewaySettingsMonitor settings, TimeProvider time, ILogger<RateLimiter> logger, IConnectionMultiplexer? redis = null)
    {
        _settings = settings;
        _time = time;
        _logger = logger;
        var options = settings.Current.RateLimiting;
        _redis = redis is null ? null : new RedisLimiterStore(redis, options.KeyPrefix, options.Clock == "local" ? time : null);
        _local = new LocalLimiterStore(time);
        _fallback = new LocalLimiterStore(time);
    }

    /// <summary>True when decisions are shared through Redis.</summary>
    public bool Shared => _redis is not null;

    public async ValueTask<LimitDecision> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        if (_redis is null)
        {
            return await _local.AcquireAsync(request, cancellationToken);
        }

        var options = _settings.Current.RateLimiting;
        using var budget = new CancellationTokenSource(options.RedisTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        try
        {
            return await _redis.AcquireAsync(request, linked.Token);
        }
        catch (Exception ex) when (IsRedisFailure(ex) && !cancellationToken.IsCancellationRequested)
        {
            Log.RedisFailed(_logger, options.RedisTimeout.TotalMilliseconds, ex.GetType().Name);
            if (request.Scopes.Any(s => !s.Policy.FailOpen))
            {
                return new LimitDecision(null, LimitReason.Unavailable, request.Scopes.First(s => !s.Policy.FailOpen), TimeSpan.FromSeconds(1), []);
            }

            var replicas = options.ExpectedReplicas;
            var shared = request with
            {
                Scopes = [.. request.Scopes.Select(s => s with { Policy = s.Policy.Share(replicas) })],
                DailyBudgetMicros = request.DailyBudgetMicros / replicas,
            };
            return await _fallback.AcquireAsync(shared, cancellationToken);
        }
    }

    /// <summary>Settles a lease in the store that granted it; a Redis failure here is logged (the keys' TTLs bound the error).</summary>
    public async ValueTask SettleAsync(Lease lease, long tokens, long costMicros)
    {
        try
        {
            var timeout = _settings.Current.RateLimiting.RedisTimeout * 4;
            using var budget = new CancellationTokenSource(timeout, _time);
            await lease.Store.SettleAsync(lease, tokens, costMicros, budget.Token);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Log.SettleFailed(_logger, ex.GetType().Name);
        }
    }

    private static bool IsRedisFailure(Exception ex) => ex is RedisException or TimeoutException or OperationCanceledException;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Redis limiter unavailable (budget {BudgetMs} ms, {Exception}); applying the policies' failure mode")]
        public static partial void RedisFailed(ILogger logger, double budgetMs, string exception);

        [LoggerMessage(2, LogLevel.Warning, "Could not settle a reservation on Redis ({Exception}); it expires with its window")]
        public static partial void SettleFailed(ILogger logger, string exception);
    }
}
