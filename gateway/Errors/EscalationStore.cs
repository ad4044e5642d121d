using System.Collections.Concurrent;
using Gateway.Hosting;

namespace Gateway.Errors;

/// <summary>
/// The escalation blocks of the requests this replica answered with a problem, by request id, kept for
/// <c>Gateway:Escalation:Retention</c> (and at most <see cref="MaxEntries"/>): what <c>requests show</c> prints.
/// The payload sample in a block is sanitized before it is kept.
/// </summary>
public sealed class EscalationStore(GatewaySettingsMonitor settings, TimeProvider time)
{
    /// <summary>The most blocks kept; the oldest go first.</summary>
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, (string Block, DateTimeOffset At)> _blocks = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string RequestId, DateTimeOffset At)> _order = new();

    public void Add(string requestId, string block)
    {
        var now = time.GetUtcNow();
        _blocks[requestId] = (block, now);
        _order.Enqueue((requestId, now));
        Trim(now);
    }

    /// <summary>The block of a request answered with a problem within the retention, or null.</summary>
    public string? Find(string requestId)
    {
        Trim(time.GetUtcNow());
        return _blocks.TryGetValue(requestId, out var kept) ? kept.Block : null;
    }

    private void Trim(DateTimeOffset now)
    {
        var cutoff = now - settings.Current.EscalationRetention;
        while (_order.TryPeek(out var oldest) && (oldest.At < cutoff || _order.Count > MaxEntries) && _order.TryDequeue(out oldest))
        {
            // A request id written again later (a stream's error event after its problem) stays under its newer time.
            if (_blocks.TryGetValue(oldest.RequestId, out var kept) && kept.At <= oldest.At)
            {
                _blocks.TryRemove(new KeyValuePair<string, (string, DateTimeOffset)>(oldest.RequestId, kept));
            }
        }
    }
}
