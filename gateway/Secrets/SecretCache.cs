using System.Collections.Concurrent;
using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>
/// The resolved value of every secret reference. Requests read the cache (no I/O on the hot path once a secret is
/// resolved); the poller and vendor-401 recovery refresh it. A refresh that fails keeps the last good value and records
/// the error for readiness; concurrent refreshes of one reference share a single read.
/// </summary>
public sealed partial class SecretCache : ISecretStore
{
    private readonly ISecretSource[] _sources;
    private readonly GatewaySettingsMonitor _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<SecretCache> _logger;
    private readonly ConcurrentDictionary<SecretReference, Entry> _entries = new();
    private readonly ConcurrentDictionary<SecretReference, Lazy<Task<bool>>> _inFlight = new();

    private readonly SecretRegistry? _registry;
    private readonly SecretMetrics? _metrics;

    public SecretCache(
        IEnumerable<ISecretSource> sources, GatewaySettingsMonitor settings, TimeProvider time, ILogger<SecretCache> logger,
        SecretRegistry? registry = null, SecretMetrics? metrics = null)
    {
        _registry = registry;
        _metrics = metrics;
        _sources = [.. sources];
        _settings = settings;
        _time = time;
        _logger = logger;
    }

    public async ValueTask<SecretResult> GetAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(reference, out var entry) && entry.Value is { } value)
        {
            return SecretResult.Found(value);
        }

        await RefreshAsync(reference, cancellationToken);
        entry = _entries[reference];
        return entry.Value is { } fresh ? SecretResult.Found(fresh) : SecretResult.Missing(entry.Error ?? "not resolved yet");
    }

    /// <summary>The value as last read (the same string instance until it changes), or null when never read; no I/O.</summary>
    public string? Cached(SecretReference reference) => _entries.TryGetValue(reference, out var entry) ? entry.Value : null;

    /// <summary>Reads the secret again (shared with any read already under way); true when its value changed.</summary>
    public Task<bool> RefreshAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        var flight = _inFlight.GetOrAdd(reference, r => new Lazy<Task<bool>>(() => ReadAsync(r)));
        return flight.Value.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Reads the secret again after a change notice: a read already under way may have started before the change, so
    /// it is waited out and a new one is made.
    /// </summary>
    public async Task<bool> RefreshAfterChangeAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        if (_inFlight.TryGetValue(reference, out var earlier))
        {
            await earlier.Value.WaitAsync(cancellationToken);
        }

        return await RefreshAsync(reference, cancellationToken);
    }

    /// <summary>
    /// After a vendor refused <paramref name="usedValue"/>: true when the reference now holds another value, reading it
    /// again unless it was force-read within <see cref="SecretsOptions.MinRefreshInterval"/>.
    /// </summary>
    public async Task<bool> RefreshIfStaleAsync(SecretReference reference, string usedValue, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(reference, _ => new Entry());
        Task<bool>? read = null;
        // Deciding is one step per reference: whether the value already moved on, whether a read is under way to join,
        // whether to force one. Apart (stamp the forced read, then register it), a refusal coming in between found a read
        // "just made" and none under way, and answered "unchanged" with the old value still in place.
        lock (entry)
        {
            if (entry.Value is { } current && current != usedValue)
            {
                return true;
            }

            var now = _time.GetUtcNow();
            if (_inFlight.TryGetValue(reference, out var running))
            {
                read = running.Value;
            }
            else if (entry.LastForced is not { } last || now - last >= _settings.Current.MinRefreshInterval)
            {
                entry.LastForced = now;
                read = RefreshAsync(reference, CancellationToken.None);
            }
        }

        // A read no longer under way has set its value before it was unregistered: the value below is its result.
        if (read is not null)
        {
            await read.WaitAsync(cancellationToken);
        }

        return entry.Value is { } after && after != usedValue;
    }

    /// <summary>The state of each reference, for readiness: resolved at least once, and the last error if the last read failed.</summary>
    public IReadOnlyList<(SecretReference Reference, bool Resolved, string? Error)> Status(IEnumerable<SecretReference> references)
        => [.. references.Select(r => _entries.TryGetValue(r, out var e) ? (r, e.Value is not null, e.Error) : (r, false, "not read yet"))];

    private async Task<bool> ReadAsync(SecretReference reference)
    {
        var entry = _entries.GetOrAdd(reference, _ => new Entry());
        try
        {
            var source = _sources.FirstOrDefault(s => s.Handles(reference))
                ?? throw new SecretUnavailableException($"{reference} has no source");
            var fetched = await source.FetchAsync(reference, CancellationToken.None);
            _registry?.Add(fetched.Value);
            var changed = entry.Value != fetched.Value;
            if (changed && entry.Value is not null)
            {
                Log.Rotated(_logger, reference.Text, fetched.Version);
                _metrics?.Rotated(reference);
            }

            if (entry.Error is not null)
            {
                Log.Recovered(_logger, reference.Text);
            }

            entry.Set(fetched);
            return changed;
        }
        catch (Exception ex) when (ex is SecretUnavailableException or HttpRequestException or TaskCanceledException or IOException)
        {
            var error = ex is SecretUnavailableException ? ex.Message : $"{reference} cannot be read ({ex.GetType().Name})";
            // A failure is a warning when it starts or changes; repeated at every poll it would drown the logs.
            if (error != entry.Error)
            {
                Log.ReadFailed(_logger, reference.Text, error, entry.Value is not null);
            }
            else
            {
                Log.StillFailing(_logger, reference.Text, error);
            }

            entry.Error = error;
            _metrics?.ReadFailed(reference, entry.Value is not null);
            return false;
        }
        finally
        {
            _inFlight.TryRemove(reference, out _);
        }
    }

    private sealed class Entry
    {
        private volatile string? _value;

        public string? Value => _value;

        public string? Version { get; private set; }

        public string? Error { get; set; }

        public DateTimeOffset? LastForced { get; set; }

        public void Set(SecretFetch fetched)
        {
            Version = fetched.Version;
            Error = null;
            _value = fetched.Value;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Secret {Reference} rotated (version {Version}); new requests use the new value")]
        public static partial void Rotated(ILogger logger, string reference, string version);

        [LoggerMessage(2, LogLevel.Warning, "Secret {Reference} could not be read: {Error} (last good value kept: {KeptLastGood})")]
        public static partial void ReadFailed(ILogger logger, string reference, string error, bool keptLastGood);

        [LoggerMessage(3, LogLevel.Debug, "Secret {Reference} still cannot be read: {Error}")]
        public static partial void StillFailing(ILogger logger, string reference, string error);

        [LoggerMessage(4, LogLevel.Information, "Secret {Reference} can be read again")]
        public static partial void Recovered(ILogger logger, string reference);
    }
}
