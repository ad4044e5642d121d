using System.Diagnostics.Metrics;

namespace Gateway.Resilience;

/// <summary>The resilience meter (<c>Gateway.Resilience</c>): vendor calls tried again, by provider.</summary>
public sealed class ResilienceMetrics : IDisposable
{
    public const string MeterName = "Gateway.Resilience";

    private readonly Meter _meter;
    private readonly Counter<long> _retries;

    public ResilienceMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _retries = _meter.CreateCounter<long>("gateway.vendor.retries", "{attempt}", "Vendor calls tried again after a retryable answer or an unreachable vendor, by provider.");
    }

    public void Retried(string provider) => _retries.Add(1, new KeyValuePair<string, object?>("gen_ai.provider.name", provider));

    public void Dispose() => _meter.Dispose();
}
