using System.Collections.Concurrent;
using Gateway.Hosting;
using Gateway.Secrets;
using Gateway.Transforms.Contracts;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Gateway.Resilience;

/// <summary>
/// Two Polly.Core pipelines per provider, on the gateway's clock: the circuit breaker, through which every attempt goes
/// (so every attempt counts), and the retries — the vendor-key recovery (a 401 for a key that changed in the secret
/// store is sent once more with the new key) around the retries of throttled and failing calls — entered only when a
/// first attempt asks for another, so the common call pays for one Polly layer, not three. A provider's pipeline is
/// rebuilt only when its own settings change, so an unrelated reload does not reset its breaker. With
/// <c>Gateway:Resilience:Enabled</c> false a provider's pipeline is the key recovery alone.
/// </summary>
public sealed class ProviderPipelines
{
    private static readonly RetryOptions NoRetries = new() { MaxRetries = 0 };
    private static readonly BreakerOptions NoBreaker = new() { Enabled = false };

    private readonly ConcurrentDictionary<string, ProviderPipeline> _pipelines = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ProviderPipeline> _plain = new(StringComparer.OrdinalIgnoreCase);
    private readonly GatewaySettingsMonitor _settings;
    private readonly TimeProvider _time;
    private readonly VendorKeyRecovery _keys;

    public ProviderPipelines(GatewaySettingsMonitor settings, TimeProvider time, ResilienceMetrics metrics, VendorKeyRecovery keys)
    {
        _settings = settings;
        _time = time;
        _keys = keys;
        metrics.ObserveBreakers(() => _pipelines.Select(p => (p.Key, p.Value.State)));
    }

    /// <summary>The provider's pipeline as its settings say now.</summary>
    public ProviderPipeline For(string provider)
    {
        var resilience = _settings.Current.Resilience;
        var retry = resilience.RetryFor(provider);
        var breaker = resilience.BreakerFor(provider);
        if (_pipelines.TryGetValue(provider, out var built) && built.Retry == retry && built.Breaker == breaker)
        {
            return built;
        }

        var fresh = new ProviderPipeline(retry, breaker, _time, _keys);
        return _pipelines.AddOrUpdate(provider, fresh, (_, existing) => existing.Retry == retry && existing.Breaker == breaker ? existing : fresh);
    }

    /// <summary>The provider's pipeline while the resilience pipeline is off: the vendor-key recovery only.</summary>
    public ProviderPipeline Plain(string provider) => _plain.GetOrAdd(provider, static (_, self) => new ProviderPipeline(NoRetries, NoBreaker, self._time, self._keys), this);

    /// <summary>Whether the provider's breaker keeps calls away from it now.</summary>
    public bool IsOpen(string provider) => For(provider).IsOpen;
}

/// <summary>A provider's pipeline, and what its breaker says.</summary>
public sealed class ProviderPipeline
{
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly TimeProvider _time;
    private long _openUntilTicks;

    internal ProviderPipeline(RetryOptions retry, BreakerOptions breaker, TimeProvider time, VendorKeyRecovery keys)
    {
        Retry = retry;
        Breaker = breaker;
        _time = time;
        Budget = new RetryBudget(retry.BudgetRatio, retry.BudgetMinimum);
        var retries = new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time }
            // Outermost: a key the vendor refused (401) that changed in the secret store is used once more, at once —
            // not from the budget, not a failure for the breaker; the retries below may still follow on its answer.
            .AddRetry(new RetryStrategyOptions<AttemptResult>
            {
                Name = "vendor-key",
                MaxRetryAttempts = 1,
                Delay = TimeSpan.Zero,
                ShouldHandle = args => args.Outcome.Result.Refused is { } refused && args.Outcome.Result.Replayable
                    ? keys.RecoverAsync(refused, args.Context.CancellationToken)
                    : ValueTask.FromResult(false),
            });
        if (retry.MaxRetries > 0)
        {
            retries.AddRetry(new RetryStrategyOptions<AttemptResult>
            {
                MaxRetryAttempts = retry.MaxRetries,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result is { Retry: true }),
                // Exponential with jitter (0.8–1.2), capped; the vendor's own wait is the floor.
                DelayGenerator = args =>
                {
                    var backoff = retry.BaseDelay * Math.Pow(2, args.AttemptNumber) * (0.8 + Random.Shared.NextDouble() * 0.4);
                    var chosen = backoff < retry.MaxDelay ? backoff : retry.MaxDelay;
                    var floor = args.Outcome.Result.RetryAfter ?? TimeSpan.Zero;
                    return ValueTask.FromResult<TimeSpan?>(floor > chosen ? floor : chosen);
                },
            });
        }

        Retries = retries.Build();
        if (breaker.Enabled)
        {
            CircuitBreaker = new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time }.AddCircuitBreaker(new CircuitBreakerStrategyOptions<AttemptResult>
            {
                FailureRatio = breaker.FailureRatio,
                MinimumThroughput = breaker.MinimumThroughput,
                SamplingDuration = breaker.SamplingDuration,
                BreakDuration = breaker.BreakDuration,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result is { Failure: true }),
                StateProvider = _state,
                OnOpened = args =>
                {
                    Volatile.Write(ref _openUntilTicks, (_time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    return ValueTask.CompletedTask;
                },
            }).Build();
        }
    }

    public RetryOptions Retry { get; }

    public BreakerOptions Breaker { get; }

    /// <summary>
    /// The key recovery and the retries: the first execution is the first attempt's result handed back, the next ones go
    /// through the breaker.
    /// </summary>
    public ResiliencePipeline<AttemptResult> Retries { get; }

    /// <summary>The circuit breaker every attempt goes through; null when the provider's breaker is off.</summary>
    public ResiliencePipeline<AttemptResult>? CircuitBreaker { get; }

    /// <summary>The provider's retry budget.</summary>
    public RetryBudget Budget { get; } = null!;

    /// <summary>0 closed, 1 open, 2 half-open (probing), 3 isolated.</summary>
    public int State => _state.CircuitState switch
    {
        CircuitState.Open => 1,
        CircuitState.HalfOpen => 2,
        CircuitState.Isolated => 3,
        _ => 0,
    };

    /// <summary>Whether the breaker is closed: every call goes to the provider, and only its outcome is counted.</summary>
    internal bool IsClosed => _state.CircuitState == CircuitState.Closed;

    /// <summary>Hands an attempt already made to the breaker, which counts it as one made inside it (<see cref="ClosedBreaker"/>).</summary>
    internal ValueTask CountAsync(Outcome<AttemptResult> outcome) => ClosedBreaker.CountAsync(CircuitBreaker!, outcome);

    /// <summary>Whether calls are kept away now (open, and its break not yet over).</summary>
    public bool IsOpen => _state.CircuitState is CircuitState.Open or CircuitState.Isolated && RemainingBreak > TimeSpan.Zero;

    /// <summary>How long the break lasts still.</summary>
    public TimeSpan RemainingBreak
    {
        get
        {
            var left = new DateTimeOffset(Volatile.Read(ref _openUntilTicks), TimeSpan.Zero) - _time.GetUtcNow();
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }
}

/// <summary>
/// A token bucket of retries: every call deposits <c>ratio</c> of a token, every retry takes a whole one, and the bucket
/// holds at most <c>minimum</c> (its starting content). Retries therefore stay within calls × ratio + minimum, however
/// long the vendor fails. Counted in thousandths, lock-free.
/// </summary>
public sealed class RetryBudget(double ratio, int minimum)
{
    private const long Token = 1000;
    private readonly long _deposit = (long)Math.Round(ratio * Token);
    private readonly long _cap = minimum * Token;
    private long _balance = minimum * Token;

    /// <summary>A call to the provider: earns its share of a retry.</summary>
    public void Deposit()
    {
        long seen, next;
        do
        {
            seen = Volatile.Read(ref _balance);
            next = Math.Min(_cap, seen + _deposit);
        }
        while (next != seen && Interlocked.CompareExchange(ref _balance, next, seen) != seen);
    }

    /// <summary>Takes one retry, if the budget has one.</summary>
    public bool TryWithdraw()
    {
        long seen;
        do
        {
            seen = Volatile.Read(ref _balance);
            if (seen < Token)
            {
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref _balance, seen - Token, seen) != seen);
        return true;
    }

    /// <summary>Gives back a retry that was taken but not needed.</summary>
    public void Refund()
    {
        long seen, next;
        do
        {
            seen = Volatile.Read(ref _balance);
            next = Math.Min(_cap, seen + Token);
        }
        while (next != seen && Interlocked.CompareExchange(ref _balance, next, seen) != seen);
    }
}

/// <summary>What one attempt came to: whether to try again, the wait the vendor asked for, and whether it counts as a failure of the vendor.</summary>
/// <param name="Refused">The vendor's 401, held back, when it refused the call.</param>
/// <param name="Replayable">Whether the call's body can be sent again.</param>
public readonly record struct AttemptResult(bool Retry, TimeSpan? RetryAfter, bool Failure, VendorAuthFailureFeature? Refused = null, bool Replayable = false)
{
    public static readonly AttemptResult Success = new(false, null, false);
}
