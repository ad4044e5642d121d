using System.Collections.Concurrent;
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
    private readonly ObservableCounter<long> _requests;
    private readonly ObservableCounter<double> _cost;
    private readonly ObservableCounter<long> _tokens;
    private readonly Histogram<double> _firstByte;
    // The running totals of each label set, which the counters report when read: a call adds to its set's totals
    // (one lookup) rather than making four tagged recordings. The label sets are bounded (configured routes, providers
    // and clients; the gateway's error codes).
    private readonly ConcurrentDictionary<Labels, Totals> _totals = new();

    public TrafficMetrics(IMeterFactory meters, GatewaySettingsMonitor settings, AccessLogWriter accessLog)
    {
        _meter = meters.Create(MeterName);
        _requests = _meter.CreateObservableCounter("gateway.requests", ObserveRequests, "{request}",
            "Requests answered, by route, provider, client, status class and error code.");
        _cost = _meter.CreateObservableCounter("gateway.cost.usd", ObserveCost, "{USD}",
            "What vendor calls cost, in USD, from the vendors' usage at the configured prices, by provider and client.");
        _tokens = _meter.CreateObservableCounter("gateway.tokens", ObserveTokens, "{token}",
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
        var route = entry.Route ?? "unmatched";
        var labels = new Labels(route, provider, entry.Client ?? None, StatusClass(entry.Status), entry.ErrorCode ?? None);
        if (!_totals.TryGetValue(labels, out var totals))
        {
            totals = _totals.GetOrAdd(labels, static _ => new Totals());
        }

        Interlocked.Increment(ref totals.Requests);
        if (entry.Cost is { } cost && cost > 0)
        {
            totals.AddCost((double)cost);
        }

        if (entry.Usage is { } usage)
        {
            Interlocked.Add(ref totals.InputTokens, usage.InputTokens);
            Interlocked.Add(ref totals.OutputTokens, usage.OutputTokens);
            Volatile.Write(ref totals.Usage, true);
        }

        if (entry.Stream == true && entry.TimeToFirstByte is { } firstByte && _firstByte.Enabled)
        {
            _firstByte.Record(firstByte.TotalSeconds, new("route", route), new("provider", provider));
        }
    }

    public void Dispose() => _meter.Dispose();

    private static string StatusClass(int status) => status is >= 100 and < 600 ? StatusClasses[status / 100 - 1] : "5xx";

    private IEnumerable<Measurement<long>> ObserveRequests()
    {
        foreach (var (labels, totals) in _totals)
        {
            yield return new Measurement<long>(Interlocked.Read(ref totals.Requests), [
                new("route", labels.Route), new("provider", labels.Provider), new("client", labels.Client),
                new("status_class", labels.StatusClass), new("error_code", labels.ErrorCode)]);
        }
    }

    // Cost and tokens are by provider and client only: the totals of the label sets that share them are summed.
    private IEnumerable<Measurement<double>> ObserveCost()
    {
        var sums = new Dictionary<(string Provider, string Client), double>();
        foreach (var (labels, totals) in _totals)
        {
            if (Volatile.Read(ref totals.Cost) is var cost and > 0)
            {
                var key = (labels.Provider, labels.Client);
                sums[key] = sums.GetValueOrDefault(key) + cost;
            }
        }

        foreach (var ((provider, client), cost) in sums)
        {
            yield return new Measurement<double>(cost, new("provider", provider), new("client", client));
        }
    }

    private IEnumerable<Measurement<long>> ObserveTokens()
    {
        var sums = new Dictionary<(string Provider, string Client), (long Input, long Output)>();
        foreach (var (labels, totals) in _totals)
        {
            if (Volatile.Read(ref totals.Usage))
            {
                var key = (labels.Provider, labels.Client);
                var (input, output) = sums.GetValueOrDefault(key);
                sums[key] = (input + Interlocked.Read(ref totals.InputTokens), output + Interlocked.Read(ref totals.OutputTokens));
            }
        }

        foreach (var ((provider, client), (input, output)) in sums)
        {
            yield return new Measurement<long>(input, new("provider", provider), new("client", client), new("token_type", "input"));
            yield return new Measurement<long>(output, new("provider", provider), new("client", client), new("token_type", "output"));
        }
    }

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

    private readonly record struct Labels(string Route, string Provider, string Client, string StatusClass, string ErrorCode);

    private sealed class Totals
    {
        public long Requests;
        public double Cost;
        public long InputTokens;
        public long OutputTokens;
        public bool Usage;

        public void AddCost(double amount)
        {
            double seen, sum;
            do
            {
                seen = Volatile.Read(ref Cost);
                sum = seen + amount;
            }
            while (Interlocked.CompareExchange(ref Cost, sum, seen) != seen);
        }
    }
}
