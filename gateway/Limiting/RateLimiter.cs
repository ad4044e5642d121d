using System.Collections.Concurrent;
using System.Threading.Channels;
using Gateway.Hosting;
using Gateway.Resilience;
using Polly;
using Polly.CircuitBreaker;
using StackExchange.Redis;

namespace Gateway.Limiting;

/// <summary>
/// Decides admission: on Redis when <c>ConnectionStrings:Redis</c> is set, else in process.
/// <list type="bullet">
/// <item>While Redis is reachable, a decision waits for Redis's answer (up to <see cref="RateLimitingOptions.RedisTimeout"/>):
/// a busy replica's late answer is not an outage. A circuit breaker decides Redis is down — connection failures and
/// answers later than the budget, over a sampling window — and then each policy's failure mode applies at once,
/// without asking Redis: <c>closed</c> refuses (503), <c>open</c> decides locally at limit ÷ ExpectedReplicas.</item>
/// <item>A decision whose answer never came back (timed out, connection lost after sending, caller gone) may still
/// have run in Redis: it is released there by its id, in order behind it on the same connection and retried until
/// Redis takes it, so it is never counted in Redis and admitted locally (or refused) as well.</item>
/// <item>A scope Redis refused on its request count stays closed in this replica until its oldest request leaves the
/// window (the count cannot drop sooner), so a client hammering over its limit is refused here without costing Redis.</item>
/// </list>
/// </summary>
public sealed partial class RateLimiter : IDisposable
{
    private const int MaxPendingReleases = 100_000;
    private static readonly TimeSpan ReleaseRetryDelay = TimeSpan.FromSeconds(1);

    private readonly GatewaySettingsMonitor _settings;
    private readonly RedisLimiterStore? _redis;
    private readonly LocalLimiterStore _local;
    private readonly LocalLimiterStore _fallback;
    private readonly TimeProvider _time;
    private readonly LimiterMetrics _metrics;
    private readonly ILogger<RateLimiter> _logger;
    private readonly ResiliencePipeline? _breaker;
    private readonly CircuitBreakerStateProvider _breakerState = new();
    private readonly ConcurrentDictionary<(string Client, string Scope), Closure> _closures = new();
    private readonly Channel<PendingRelease> _releases = Channel.CreateBounded<PendingRelease>(
        new BoundedChannelOptions(MaxPendingReleases) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();

    public RateLimiter(GatewaySettingsMonitor settings, TimeProvider time, LimiterMetrics metrics, ILogger<RateLimiter> logger, IConnectionMultiplexer? redis = null)
    {
        _settings = settings;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _local = new LocalLimiterStore(time);
        _fallback = new LocalLimiterStore(time);
        if (redis is null)
        {
            return;
        }

        var options = settings.Current.RateLimiting;
        _redis = new RedisLimiterStore(redis, options.KeyPrefix, settings.Current.LimiterClock == LimiterClock.Local ? time : null, metrics, options.SettleLinger, time);
        _breaker = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.Breaker.FailureRatio,
                MinimumThroughput = options.Breaker.MinimumThroughput,
                SamplingDuration = options.Breaker.SamplingDuration,
                BreakDuration = options.Breaker.BreakDuration,
                ShouldHandle = new PredicateBuilder().Handle<RedisException>().Handle<TimeoutException>(),
                StateProvider = _breakerState,
                OnOpened = args =>
                {
                    Log.BreakerOpened(_logger, args.BreakDuration.TotalSeconds, args.Outcome.Exception?.GetType().Name ?? "failure");
                    return default;
                },
                OnClosed = _ =>
                {
                    Log.BreakerClosed(_logger);
                    return default;
                },
            })
            .Build();
        _metrics.ObserveBreaker(() => _breakerState.CircuitState switch
        {
            CircuitState.Closed => 0,
            CircuitState.HalfOpen => 2,
            _ => 1,
        });
        _ = Task.Run(ReleaseLoopAsync);
    }

    /// <summary>True when decisions are shared through Redis.</summary>
    public bool Shared => _redis is not null;

    /// <summary>The Redis breaker's state (closed when there is no Redis).</summary>
    public CircuitState BreakerState => _breakerState.CircuitState;

    public async ValueTask<LimitDecision> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        if (_redis is null)
        {
            var local = await _local.AcquireAsync(request, cancellationToken);
            _metrics.Decision("local", local, _time.GetElapsedTime(started));
            return local;
        }

        if (RefusedHere(request, started) is { } closed)
        {
            _metrics.Decision("closed", closed, _time.GetElapsedTime(started));
            return closed;
        }

        LimitDecision decision;
        string store;
        try
        {
            if (_breakerState.CircuitState == CircuitState.Closed)
            {
                // While the breaker is closed (nearly always) the decision is asked of Redis first and its outcome then
                // counted by the breaker as one made inside it (Resilience/ClosedBreaker): neither Polly's frames nor
                // frames of this class's own are around every decision.
                Outcome<LimitDecision> outcome;
                Task<LimitDecision>? pending = null;
                try
                {
                    // As the breaker does: nothing asked for a call already cancelled (counted, and not as a failure).
                    cancellationToken.ThrowIfCancellationRequested();
                    pending = AskRedis(request);
                    outcome = Outcome.FromResult(await pending.WaitAsync(_settings.Current.RateLimiting.RedisTimeout, _time, cancellationToken));
                }
                catch (Exception ex)
                {
                    outcome = Outcome.FromException<LimitDecision>(pending is null ? ex : Unanswered(ex, request, pending, cancellationToken));
                }

                await ClosedBreaker.CountAsync(_breaker!, outcome);
                outcome.ThrowIfException();
                decision = outcome.Result!;
            }
            else
            {
                decision = await _breaker!.ExecuteAsync(static (state, token) => state.Self.DecideOnRedisAsync(state.Request, token), (Self: this, Request: request), cancellationToken);
            }

            store = "redis";
            Note(request, decision);
        }
        catch (Exception ex) when (ex is BrokenCircuitException or RedisException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            var cause = ex switch
            {
                BrokenCircuitException => "breaker_open",
                TimeoutException => "timeout",
                _ => "redis_error",
            };
            _metrics.Fallback(cause);
            Log.DecidedWithoutRedis(_logger, cause);
            decision = await FailureModeAsync(request, cancellationToken);
            if (ex is LateDecisionException late)
            {
                decision = Reconcile(request, decision, late.Pending);
            }

            store = "fallback";
        }

        _metrics.Decision(store, decision, _time.GetElapsedTime(started));
        return decision;
    }

    /// <summary>
    /// Settles a lease in the store that granted it. In process, at once. On Redis, nothing waits for it: it goes out
    /// with the client's next decision (or after <see cref="RateLimitingOptions.SettleLinger"/>), ordered before this
    /// replica's later decisions; a failure is logged (the keys' TTLs bound the error).
    /// </summary>
    public ValueTask SettleAsync(Lease lease, long tokens, long costMicros)
    {
        if (lease.Store is LocalLimiterStore local)
        {
            return local.SettleAsync(lease, tokens, costMicros, CancellationToken.None);
        }

        var settled = lease.Store.SettleAsync(lease, tokens, costMicros, CancellationToken.None);
        if (!settled.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(settled);
        }

        return ValueTask.CompletedTask;
    }

    private async Task ObserveAsync(ValueTask settled)
    {
        try
        {
            await settled.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            Log.SettleFailed(_logger, ex.GetType().Name);
        }
    }

    // Inside the breaker (open or half-open: its probes).
    private async ValueTask<LimitDecision> DecideOnRedisAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var pending = AskRedis(request);
        try
        {
            return await pending.WaitAsync(_settings.Current.RateLimiting.RedisTimeout, _time, cancellationToken);
        }
        catch (Exception ex)
        {
            var failure = Unanswered(ex, request, pending, cancellationToken);
            if (failure == ex)
            {
                throw;
            }

            throw failure;
        }
    }

    // Not cancelled with the wait: if the answer is late it is still read, and reconciled with what was decided meanwhile
    // (the client library's own timeout bounds it).
    private Task<LimitDecision> AskRedis(AdmissionRequest request) => _redis!.AcquireAsync(request, CancellationToken.None).AsTask();

    /// <summary>
    /// What a wait for Redis's answer that failed with <paramref name="failure"/> leaves behind, and the exception to
    /// report: a late answer is still on its way (<see cref="LateDecisionException"/>, to reconcile); a caller gone
    /// releases whatever Redis decides; a timeout of the client library or a connection lost after sending may have run
    /// the script, so the reservation is released by id (only a command never sent reserved nothing).
    /// </summary>
    private Exception Unanswered(Exception failure, AdmissionRequest request, Task<LimitDecision> pending, CancellationToken cancellationToken)
    {
        if (failure is TimeoutException && !pending.IsCompleted)
        {
            return new LateDecisionException(pending, _settings.Current.RateLimiting.RedisTimeout);
        }

        if (failure is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // The caller is gone: whatever Redis decides, nobody was admitted.
            ReleaseIfAdmitted(request, pending);
        }
        else if (failure is RedisException or TimeoutException && failure is not RedisConnectionException { CommandStatus: CommandStatus.WaitingToBeSent })
        {
            EnqueueRelease(request);
        }

        return failure;
    }

    /// <summary>
    /// A decision made without Redis while Redis's own answer is still on its way: when it comes, the request is counted
    /// once, where it should be — kept in Redis (and released locally) when both admitted it, released from Redis when
    /// it was refused here.
    /// </summary>
    private LimitDecision Reconcile(AdmissionRequest request, LimitDecision local, Task<LimitDecision> pending)
    {
        if (local.Lease is not { } lease)
        {
            ReleaseIfAdmitted(request, pending);
            return local;
        }

        return local with { Lease = new Lease(request, lease.Day, new ReconcilingStore(this, lease, pending)) };
    }

    private void ReleaseIfAdmitted(AdmissionRequest request, Task<LimitDecision> pending)
        => _ = pending.ContinueWith(
            (task, state) =>
            {
                var (self, release) = ((RateLimiter, AdmissionRequest))state!;
                if (task.IsFaulted || task.Result.Admitted)
                {
                    self.EnqueueRelease(release);
                }
            },
            (this, request),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private void EnqueueRelease(AdmissionRequest request) => _releases.Writer.TryWrite(new PendingRelease(request, _time.GetTimestamp()));

    private async ValueTask<LimitDecision> FailureModeAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        foreach (var scope in request.Scopes)
        {
            if (!scope.Policy.FailOpen)
            {
                return LimitDecision.Refused(LimitReason.Unavailable, scope, TimeSpan.FromSeconds(1));
            }
        }

        var replicas = _settings.Current.RateLimiting.ExpectedReplicas;
        var shared = request with
        {
            Scopes = [.. request.Scopes.Select(s => s with { Policy = s.Policy.Share(replicas) })],
            Budgets = [.. request.Budgets.Select(b => b.Share(replicas))],
        };
        return await _fallback.AcquireAsync(shared, cancellationToken);
    }

    // A request-count refusal holds until the scope's oldest request leaves the window: nothing else can free a place.
    private void Note(AdmissionRequest request, LimitDecision decision)
    {
        if (decision is { Reason: LimitReason.Requests, Scope: { } scope } && decision.RetryAfter != TimeSpan.MaxValue)
        {
            var until = _time.GetTimestamp() + (long)(decision.RetryAfter.TotalSeconds * _time.TimestampFrequency);
            _closures[(request.ClientId, scope.Key)] = new Closure(scope.Policy, until);
        }
    }

    private LimitDecision? RefusedHere(AdmissionRequest request, long now)
    {
        if (_closures.IsEmpty)
        {
            return null;
        }

        foreach (var scope in request.Scopes)
        {
            var key = (request.ClientId, scope.Key);
            if (!_closures.TryGetValue(key, out var closure))
            {
                continue;
            }

            if (closure.Until <= now)
            {
                _closures.TryRemove(new KeyValuePair<(string, string), Closure>(key, closure));
            }
            else if (closure.Policy == scope.Policy)
            {
                var left = TimeSpan.FromSeconds((closure.Until - now) / (double)_time.TimestampFrequency);
                return LimitDecision.Refused(LimitReason.Requests, scope, left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left);
            }
        }

        return null;
    }

    // Releases go out in order; one that fails (Redis unreachable) is tried again until its reservation would have
    // expired anyway.
    private async Task ReleaseLoopAsync()
    {
        try
        {
            await foreach (var pending in _releases.Reader.ReadAllAsync(_stopping.Token))
            {
                var longest = pending.Request.Budgets.Length > 0 ? TimeSpan.FromDays(2) : pending.Request.Scopes.Select(s => s.Policy.Window).DefaultIfEmpty().Max();
                while (_time.GetElapsedTime(pending.Since) < longest + TimeSpan.FromMinutes(1))
                {
                    try
                    {
                        using var budget = new CancellationTokenSource(_settings.Current.RateLimiting.RedisTimeout * 4, _time);
                        using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, _stopping.Token);
                        await _redis!.ReleaseAsync(pending.Request, linked.Token);
                        break;
                    }
                    catch (Exception ex) when ((ex is RedisException or TimeoutException or OperationCanceledException) && !_stopping.IsCancellationRequested)
                    {
                        Log.ReleaseDeferred(_logger, ex.GetType().Name);
                        await Task.Delay(ReleaseRetryDelay, _time, _stopping.Token);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private sealed record Closure(LimitPolicy Policy, long Until);

    /// <summary>Redis's answer did not come within the budget; it is still on its way.</summary>
    private sealed class LateDecisionException(Task<LimitDecision> pending, TimeSpan budget)
        : TimeoutException($"Redis did not answer within Gateway:RateLimiting:RedisTimeout ({budget}).")
    {
        public Task<LimitDecision> Pending { get; } = pending;
    }

    /// <summary>
    /// The store of a lease granted without Redis while Redis's late answer was pending: settles where the request ends
    /// up counted. Settlement never waits for that answer; it follows it.
    /// </summary>
    private sealed class ReconcilingStore : ILimiterStore
    {
        private readonly Task<Lease?> _redisLease;
        private readonly Lease _local;

        public ReconcilingStore(RateLimiter owner, Lease local, Task<LimitDecision> pending)
        {
            _local = local;
            _redisLease = ResolveAsync(owner, local, pending);
        }

        private static async Task<Lease?> ResolveAsync(RateLimiter owner, Lease local, Task<LimitDecision> pending)
        {
            try
            {
                var decision = await pending.ConfigureAwait(false);
                if (decision.Lease is { } redis)
                {
                    // Counted in Redis, where every replica sees it: no longer counted here as well.
                    await local.Store.ReleaseAsync(local.Request, CancellationToken.None);
                    return redis;
                }

                return null;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
            {
                owner.EnqueueRelease(local.Request);
                return null;
            }
        }

        public ValueTask<LimitDecision> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask ReleaseAsync(AdmissionRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask SettleAsync(Lease lease, long tokens, long costMicros, CancellationToken cancellationToken)
        {
            if (_redisLease.IsCompletedSuccessfully)
            {
                return _redisLease.Result is { } redis
                    ? redis.Store.SettleAsync(redis, tokens, costMicros, cancellationToken)
                    : _local.Store.SettleAsync(_local, tokens, costMicros, cancellationToken);
            }

            _ = SettleLaterAsync(tokens, costMicros);
            return ValueTask.CompletedTask;
        }

        private async Task SettleLaterAsync(long tokens, long costMicros)
        {
            var redis = await _redisLease.ConfigureAwait(false);
            try
            {
                await (redis is not null ? redis.Store.SettleAsync(redis, tokens, costMicros, CancellationToken.None) : _local.Store.SettleAsync(_local, tokens, costMicros, CancellationToken.None));
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
            {
                // The reservation expires with its window.
            }
        }
    }

    private readonly record struct PendingRelease(AdmissionRequest Request, long Since);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Decided without Redis ({Cause}); the policies' failure mode applies")]
        public static partial void DecidedWithoutRedis(ILogger logger, string cause);

        [LoggerMessage(2, LogLevel.Warning, "Could not settle a reservation on Redis ({Exception}); it expires with its window")]
        public static partial void SettleFailed(ILogger logger, string exception);

        [LoggerMessage(3, LogLevel.Warning, "Redis limiter breaker opened for {Seconds} s ({Cause}): decisions apply each policy's failure mode without asking Redis")]
        public static partial void BreakerOpened(ILogger logger, double seconds, string cause);

        [LoggerMessage(4, LogLevel.Information, "Redis limiter breaker closed: decisions are shared through Redis again")]
        public static partial void BreakerClosed(ILogger logger);

        [LoggerMessage(5, LogLevel.Debug, "Releasing a timed-out reservation on Redis failed ({Exception}); trying again")]
        public static partial void ReleaseDeferred(ILogger logger, string exception);
    }
}
