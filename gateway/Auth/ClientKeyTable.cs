using System.Diagnostics.Metrics;
using System.Globalization;
using Gateway.Hosting;
using Gateway.Secrets;

namespace Gateway.Auth;

/// <summary>
/// Every client key in force: the ones configuration lists (<c>KeySha256</c>, <c>Keys</c>) and the ones a client's
/// <c>KeysFrom</c> secret lists, as its cached value stands — rebuilt when the settings reload or such a secret changes
/// (the poller and the file watcher refresh it), not per request. A key's last use carries over a rebuild. Observes
/// <c>gateway.client.key.last_used_timestamp</c> (meter <c>Gateway.Auth</c>) by client and key label, never by key.
/// </summary>
public sealed partial class ClientKeyTable
{
    public const string MeterName = "Gateway.Auth";

    private readonly GatewaySettingsMonitor _settings;
    private readonly SecretCache? _secrets;
    private readonly ILogger<ClientKeyTable>? _logger;
    private volatile Snapshot? _snapshot;

    public ClientKeyTable(GatewaySettingsMonitor settings, SecretCache? secrets = null, ILogger<ClientKeyTable>? logger = null, IMeterFactory? meters = null)
    {
        _settings = settings;
        _secrets = secrets;
        _logger = logger;
        meters?.Create(MeterName).CreateObservableGauge("gateway.client.key.last_used_timestamp", LastUses, "s",
            "When each client key was last presented (Unix time), by client and key label; keys not used since start are absent.");
    }

    /// <summary>A key in force and its client.</summary>
    public readonly record struct Entry(GatewayClient Client, ClientKey Key);

    /// <summary>The keys in force now.</summary>
    public Entry[] Entries
    {
        get
        {
            var current = _settings.Current;
            var snapshot = _snapshot;
            if (snapshot is null || !ReferenceEquals(snapshot.Settings, current) || SourcesChanged(snapshot))
            {
                snapshot = Build(current, snapshot);
                _snapshot = snapshot;
            }

            return snapshot.Entries;
        }
    }

    private bool SourcesChanged(Snapshot snapshot)
    {
        var sources = snapshot.Sources;
        for (var i = 0; i < sources.Length; i++)
        {
            if (!ReferenceEquals(_secrets?.Cached(sources[i].Reference), sources[i].Value))
            {
                return true;
            }
        }

        return false;
    }

    private Snapshot Build(GatewaySettings settings, Snapshot? previous)
    {
        var used = previous?.Entries.ToDictionary(e => Convert.ToHexString(e.Key.Hash), e => e.Key.LastUsed) ?? [];
        var entries = new List<Entry>();
        var sources = new List<(SecretReference, string?)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var client in settings.Clients)
        {
            foreach (var key in client.Keys)
            {
                entries.Add(new Entry(client, key));
                seen.Add(Convert.ToHexString(key.Hash));
            }
        }

        foreach (var client in settings.Clients)
        {
            if (client.KeysFrom is not { } reference)
            {
                continue;
            }

            var value = _secrets?.Cached(reference);
            sources.Add((reference, value));
            foreach (var key in Parse(value, reference, client.Id))
            {
                // A hash that is already another client's (or listed twice) is nobody's: which client it means is unclear.
                if (!seen.Add(Convert.ToHexString(key.Hash)))
                {
                    if (_logger is not null)
                    {
                        Log.DuplicateKey(_logger, reference.Text, client.Id, key.Label);
                    }

                    continue;
                }

                entries.Add(new Entry(client, key));
            }
        }

        foreach (var entry in entries)
        {
            if (used.TryGetValue(Convert.ToHexString(entry.Key.Hash), out var last) && last > entry.Key.LastUsed)
            {
                entry.Key.LastUsed = last;
            }
        }

        return new Snapshot(settings, [.. sources], [.. entries]);
    }

    // One key per line: the hash, then "notAfter=<ISO 8601>" and "label=<label>" in any order; '#' starts a comment line.
    private IEnumerable<ClientKey> Parse(string? text, SecretReference reference, string client)
    {
        if (text is null)
        {
            yield break;
        }

        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var hash = ClientKeyHasher.ParseHash(fields[0]);
            DateTimeOffset? notAfter = null;
            string? label = null;
            var fault = hash is null ? "its first field is not a 64-character hex SHA-256" : null;
            foreach (var field in fields.Skip(1))
            {
                if (field.StartsWith("notAfter=", StringComparison.OrdinalIgnoreCase)
                    && DateTimeOffset.TryParse(field["notAfter=".Length..], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                {
                    notAfter = time;
                }
                else if (field.StartsWith("label=", StringComparison.OrdinalIgnoreCase) && ClientKeyHasher.IsValidLabel(field["label=".Length..]))
                {
                    label = field["label=".Length..];
                }
                else
                {
                    fault ??= "a field is neither notAfter=<ISO 8601 time> nor label=<letters, digits, '.', ':', '-', '_'>";
                }
            }

            if (fault is not null)
            {
                if (_logger is not null)
                {
                    Log.BadLine(_logger, reference.Text, number, client, fault);
                }

                continue;
            }

            yield return new ClientKey(hash!, notAfter, label ?? ClientKeyHasher.DefaultLabel(hash!));
        }
    }

    private IEnumerable<Measurement<long>> LastUses()
    {
        foreach (var entry in Entries)
        {
            if (entry.Key.LastUsed > 0)
            {
                yield return new Measurement<long>(entry.Key.LastUsed,
                    new KeyValuePair<string, object?>("client", entry.Client.Id), new KeyValuePair<string, object?>("key_label", entry.Key.Label));
            }
        }
    }

    private sealed record Snapshot(GatewaySettings Settings, (SecretReference Reference, string? Value)[] Sources, Entry[] Entries);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Line {Line} of {Reference} (keys of client {Client}) is skipped: {Fault}")]
        public static partial void BadLine(ILogger logger, string reference, int line, string client, string fault);

        [LoggerMessage(2, LogLevel.Warning, "A key listed by {Reference} for client {Client} (label {Label}) is already another key in force; it is skipped")]
        public static partial void DuplicateKey(ILogger logger, string reference, string client, string label);
    }
}
