using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gateway.Hosting;

/// <summary>
/// What the last configuration reload of each part (Gateway settings, ReverseProxy) did; shown by readiness, and
/// counted (<c>gateway.config.reloads</c>, by part and outcome <c>applied</c> / <c>refused</c>; meter <c>Gateway.Config</c>).
/// </summary>
public sealed class ConfigStatus
{
    public const string MeterName = "Gateway.Config";

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Rejection> _rejections = new(StringComparer.Ordinal);

    // Counted here and observed by the meter, so the loads made before any exporter listens (at start) are in it too.
    private readonly ConcurrentDictionary<(string Part, string Outcome), long> _reloads = new();

    public ConfigStatus(TimeProvider time, IMeterFactory? meters = null)
    {
        _time = time;
        meters?.Create(MeterName).CreateObservableCounter("gateway.config.reloads",
            () => _reloads.Select(r => new Measurement<long>(r.Value, new KeyValuePair<string, object?>("part", r.Key.Part), new KeyValuePair<string, object?>("outcome", r.Key.Outcome))),
            "{reload}", "Configuration loads and reloads, by part and outcome (applied, refused).");
    }

    /// <summary>Parts whose last change was refused, with every error.</summary>
    public IReadOnlyDictionary<string, Rejection> Rejections => _rejections;

    public void Rejected(string part, IReadOnlyList<string> errors)
    {
        _rejections[part] = new Rejection(errors, _time.GetUtcNow());
        Count(part, "refused");
    }

    public void Applied(string part)
    {
        _rejections.TryRemove(part, out _);
        Count(part, "applied");
    }

    private void Count(string part, string outcome) => _reloads.AddOrUpdate((part, outcome), 1, static (_, n) => n + 1);

    /// <summary>A refused change.</summary>
    public sealed record Rejection(IReadOnlyList<string> Errors, DateTimeOffset At);
}
