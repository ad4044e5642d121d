using System.Collections.Concurrent;

namespace Gateway.Hosting;

/// <summary>What the last configuration reload of each part (Gateway settings, ReverseProxy) did; shown by readiness.</summary>
public sealed class ConfigStatus(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Rejection> _rejections = new(StringComparer.Ordinal);

    /// <summary>Parts whose last change was refused, with every error.</summary>
    public IReadOnlyDictionary<string, Rejection> Rejections => _rejections;

    public void Rejected(string part, IReadOnlyList<string> errors) => _rejections[part] = new Rejection(errors, time.GetUtcNow());

    public void Applied(string part) => _rejections.TryRemove(part, out _);

    /// <summary>A refused change.</summary>
    public sealed record Rejection(IReadOnlyList<string> Errors, DateTimeOffset At);
}
