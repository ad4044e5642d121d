using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Hosting;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's own traffic metrics (meter <c>Gateway.Traffic</c>), beside the GenAI client metrics, every label
/// bounded: <c>route</c> (a configured route id, an operations endpoint, or <c>unmatched</c>), <c>provider</c> (a
/// configured provider or <c>none</c>), <c>client</c> (a configured client id or <c>none</c>), <c>status_class</c>
/// (<c>2xx</c>…<c>5xx</c>) and <c>error_code</c> (the gateway's error codes, or <c>none</c>). Never end users, models
/// asked for, prompts or raw paths.
/// </summary>
internal sealed class TrafficMetrics : IDisposable
{
    public const string MeterName = "Gateway.Traffic";
    public const string None = "none";

    private static readonly double[] FirstByteBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _tokens;
    private readonly Histogram<double> _firstByte;

    public TrafficMetrics(IMeterFactory meters, GatewaySettingsMonitor settings, AccessLogWriter accessLog)
    {
        _meter = meters.Create(MeterName);
        _requests = _meter.CreateCounter<long>("gateway.requests", "{request}",
            "Requests answered, by route, provider, client, status class and error code.");
        _cost = _meter.CreateCounter<double>("gateway.cost.usd", "{USD}",
            "What vendor calls cost, in USD, from the vendors' usage at the configured prices, by provider and client.");
        _tokens = _meter.CreateCounter<long>("gateway.tokens", "{token}",
            "Tokens the vendors reported, by provider, client and token_type (input, output).");
        _firstByte = _meter.CreateHistogram("gateway.stream.time_to_first_byte", "s",
            "Time from the request to the first byte of a streamed answer, by route and provider.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FirstByteBuckets });
        _meter.CreateObservableGauge("gateway.client.daily_budget.usd", () => Budgets(settings.Current), "{USD}",
            "Each client's configured daily budget in USD (clients with one).");
        _meter.CreateObservableCounter("gateway.access_log.dropped", () => accessLog.Dropped, "{line}",
            "Access log lines dropped because the writer's queue was full.");
    }

    /// <summary>Whether any instrument recorded per request is listened to.</summary>
    public bool Enabled => _requests.Enabled || _cost.Enabled || _tokens.Enabled || _firstByte.Enabled;

    /// <summary>Records one answered request from its access-log entry.</summary>
    public void Record(AccessLogEntry entry)
    {
        var provider = entry.Provider ?? None;
        var client = entry.Client ?? None;
        var route = entry.Route ?? "unmatched";
        if (_requests.Enabled)
        {
            var tags = new TagList
            {
                { "route", route },
                { "provider", provider },
                { "client", client },
                { "status_class", StatusClass(entry.Status) },
                { "error_code", entry.ErrorCode ?? None },
            };
            _requests.Add(1, tags);
        }

        if (entry.Cost is { } cost && cost > 0 && _cost.Enabled)
        {
            _cost.Add((double)cost, new("provider", provider), new("client", client));
        }

        if (entry.Usage is { } usage && _tokens.Enabled)
        {
            _tokens.Add(usage.InputTokens, new("provider", provider), new("client", client), new("token_type", "input"));
            _tokens.Add(usage.OutputTokens, new("provider", provider), new("client", client), new("token_type", "output"));
        }

        if (entry.Stream == true && entry.TimeToFirstByte is { } firstByte && _firstByte.Enabled)
        {
            _firstByte.Record(firstByte.TotalSeconds, new("route", route), new("provider", provider));
        }
    }

    public void Dispose() => _meter.Dispose();

    private static string StatusClass(int status) => status is >= 100 and < 600 ? StatusClasses[status / 100 - 1] : "5xx";

    private static IEnumerable<Measurement<double>> Budgets(GatewaySettings settings)
    {
        foreach (var client in settings.Clients)
        {
            if (client.DailyBudgetMicros is { } micros)
            {
                yield return new Measurement<double>(micros / 1_000_000.0, new KeyValuePair<string, object?>("client", client.Id));
            }
        }
    }
}
