using System.Diagnostics.Metrics;

namespace Gateway.Resilience;

/// <summary>The resilience meter (<c>Gateway.Resilience</c>): vendor calls tried again, by provider.</summary>
public sealed class ResilienceMetrics : IDisposable
{
    public const string MeterName = "Gateway.Resilience";

    private readonly Meter _meter;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _fallbacks;
    private Func<IEnumerable<(string Provider, int State)>>? _breakers;

    public ResilienceMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _retries = _meter.CreateCounter<long>("gateway.vendor.retries", "{attempt}", "Vendor calls tried again after a retryable answer or an unreachable vendor, by provider.");
        _fallbacks = _meter.CreateCounter<long>("gateway.vendor.fallbacks", "{call}", "Calls moved to a fallback provider while their own provider's breaker was open, by provider and fallback.");
        _meter.CreateObservableGauge("gateway.vendor.breaker.state", () => (_breakers?.Invoke() ?? []).Select(b =>
            new Measurement<int>(b.State, new KeyValuePair<string, object?>("gen_ai.provider.name", b.Provider))), "{state}",
            "Each provider's circuit breaker: 0 closed, 1 open, 2 half-open (probing), 3 isolated.");
    }

    /// <summary>Where the breakers' states are read from.</summary>
    public void ObserveBreakers(Func<IEnumerable<(string Provider, int State)>> states) => _breakers = states;

    public void FellBack(string provider, string fallback) => _fallbacks.Add(1,
        new KeyValuePair<string, object?>("gen_ai.provider.name", provider), new KeyValuePair<string, object?>("gateway.fallback.provider", fallback));

    public void Retried(string provider) => _retries.Add(1, new KeyValuePair<string, object?>("gen_ai.provider.name", provider));

    public void Dispose() => _meter.Dispose();
}
