using System.Diagnostics.Metrics;

namespace Gateway.Limiting;

/// <summary>
/// The limiter's own meter (<c>Gateway.Limiting</c>): decision latency by store and outcome, Redis batch sizes, fallbacks by cause,
/// refusals by reason, and the Redis breaker's state.
/// </summary>
public sealed class LimiterMetrics : IDisposable
{
    public const string MeterName = "Gateway.Limiting";

    private static readonly double[] Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _refusals;
    private readonly Histogram<int> _batch;
    private Func<int>? _breakerState;

    public LimiterMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _duration = _meter.CreateHistogram("gateway.limiter.decision.duration", "s", "Time to decide admission, by where it was decided and how.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
        _fallbacks = _meter.CreateCounter<long>("gateway.limiter.fallbacks", "{decision}", "Decisions made without Redis, by cause.");
        _refusals = _meter.CreateCounter<long>("gateway.limiter.refusals", "{decision}", "Requests refused, by reason.");
        _batch = _meter.CreateHistogram("gateway.limiter.redis.batch.size", "{operation}",
            "Operations (decisions, settlements, releases) one Redis script call carried: above 1 when a client's operations waited behind the call before.",
            tags: null, advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128] });
        _meter.CreateObservableGauge("gateway.limiter.breaker.state", () => _breakerState?.Invoke() ?? 0, "{state}",
            "The Redis breaker: 0 closed (deciding on Redis), 1 open (failure modes apply), 2 half-open (probing).");
    }

    /// <summary>Where the breaker's state is read from, once there is one.</summary>
    public void ObserveBreaker(Func<int> state) => _breakerState = state;

    public void Decision(string store, LimitDecision decision, TimeSpan elapsed)
    {
        var outcome = decision.Admitted ? "admitted" : decision.Reason == LimitReason.Unavailable ? "unavailable" : "refused";
        if (_duration.Enabled)
        {
            _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("store", store), new KeyValuePair<string, object?>("outcome", outcome));
        }

        if (!decision.Admitted && _refusals.Enabled)
        {
            _refusals.Add(1, new KeyValuePair<string, object?>("reason", decision.Reason switch
            {
                LimitReason.Requests => "requests",
                LimitReason.Tokens => "tokens",
                LimitReason.Budget => "budget",
                _ => "unavailable",
            }));
        }
    }

    public void Batch(int operations)
    {
        if (_batch.Enabled)
        {
            _batch.Record(operations);
        }
    }

    public void Fallback(string cause)
    {
        if (_fallbacks.Enabled)
        {
            _fallbacks.Add(1, new KeyValuePair<string, object?>("cause", cause));
        }
    }

    public void Dispose() => _meter.Dispose();
}
