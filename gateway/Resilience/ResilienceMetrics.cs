using System.Diagnostics;
using System.Diagnostics.Metrics;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Resilience;

/// <summary>
/// The resilience meter (<c>Gateway.Resilience</c>): each vendor attempt's duration, vendor calls tried again and moved
/// to a fallback, the breakers' states, and the open vendor connections (<see cref="VendorConnections"/>).
/// </summary>
public sealed class ResilienceMetrics : IDisposable
{
    public const string MeterName = "Gateway.Resilience";

    // HttpClient's request duration buckets, and on to the minutes a model may take before its first byte.
    private static readonly double[] AttemptBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120];
    private static readonly string[] ErrorNames = [.. Enum.GetValues<ForwarderError>().Select(e => e.ToString())];
    private static readonly object?[] Statuses = [.. Enumerable.Range(0, 600).Select(status => (object?)status)];

    private readonly Meter _meter;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _fallbacks;
    private readonly Histogram<double> _attempts;
    private Func<IEnumerable<(string Provider, int State)>>? _breakers;

    public ResilienceMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _attempts = _meter.CreateHistogram("gateway.vendor.attempt.duration", "s",
            "Each attempt of a vendor call, from sending it to the vendor's status and headers (or to the failure when none came), by provider, status and forwarding error.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AttemptBuckets });
        _retries = _meter.CreateCounter<long>("gateway.vendor.retries", "{attempt}", "Vendor calls tried again after a retryable answer or an unreachable vendor, by provider.");
        _fallbacks = _meter.CreateCounter<long>("gateway.vendor.fallbacks", "{call}", "Calls moved to a fallback provider while their own provider's breaker was open, by provider and fallback.");
        _meter.CreateObservableGauge("gateway.vendor.breaker.state", () => (_breakers?.Invoke() ?? []).Select(b =>
            new Measurement<int>(b.State, new KeyValuePair<string, object?>("gen_ai.provider.name", b.Provider))), "{state}",
            "Each provider's circuit breaker: 0 closed, 1 open, 2 half-open (probing), 3 isolated.");
    }

    /// <summary>Where the breakers' states are read from.</summary>
    public void ObserveBreakers(Func<IEnumerable<(string Provider, int State)>> states) => _breakers = states;

    /// <summary>
    /// One vendor attempt: the vendor's status (0 when it did not answer), and the forwarder's error when forwarding
    /// failed (<c>error.type</c>: its <see cref="ForwarderError"/> name).
    /// </summary>
    public void Attempted(string provider, int status, ForwarderError? error, TimeSpan elapsed)
    {
        if (!_attempts.Enabled)
        {
            return;
        }

        var tags = new TagList { { "gen_ai.provider.name", provider } };
        if (status > 0)
        {
            tags.Add("http.response.status_code", (uint)status < (uint)Statuses.Length ? Statuses[status] : status);
        }

        if (error is { } failed and not ForwarderError.None)
        {
            tags.Add("error.type", (uint)failed < (uint)ErrorNames.Length ? ErrorNames[(int)failed] : failed.ToString());
        }

        _attempts.Record(elapsed.TotalSeconds, tags);
    }

    public void FellBack(string provider, string fallback) => _fallbacks.Add(1,
        new KeyValuePair<string, object?>("gen_ai.provider.name", provider), new KeyValuePair<string, object?>("gateway.fallback.provider", fallback));

    public void Retried(string provider) => _retries.Add(1, new KeyValuePair<string, object?>("gen_ai.provider.name", provider));

    public void Dispose() => _meter.Dispose();
}
