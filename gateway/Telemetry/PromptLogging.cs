using System.Collections.Frozen;
using Gateway.Hosting;

namespace Gateway.Telemetry;

/// <summary>What a prompt log line holds.</summary>
public enum PromptLogMode
{
    /// <summary>No line (the default).</summary>
    Off,

    /// <summary>Sizes, the SHA-256 of the body, the message count: nothing of the content.</summary>
    Metadata,

    /// <summary>The metadata and the body with personal data and credentials replaced by placeholders, cut to a length.</summary>
    Sanitized,
}

/// <summary><c>Gateway:PromptLogging</c> as written.</summary>
public sealed class PromptLoggingOptions
{
    /// <summary><c>off</c> (default), <c>metadata</c> or <c>sanitized</c>, for every route and client not named below.</summary>
    public string? Mode { get; init; }

    /// <summary>The longest sanitized text written, in characters, after redaction.</summary>
    public int MaxLength { get; init; } = 2000;

    /// <summary>Mode by route id (a ReverseProxy route).</summary>
    public Dictionary<string, string> Routes { get; init; } = [];

    /// <summary>Mode by client id; a client's mode wins over its route's.</summary>
    public Dictionary<string, string> Clients { get; init; } = [];

    /// <summary>Extra patterns to redact, by placeholder name: <c>"EMPLOYEE_ID": "\\bEMP-\\d{6}\\b"</c> → <c>[EMPLOYEE_ID]</c>.</summary>
    public Dictionary<string, string> Patterns { get; init; } = [];

    /// <summary>The time one redaction pattern may take on one text before the text is withheld.</summary>
    public TimeSpan MatchTimeout { get; init; } = PromptRedactor.DefaultMatchTimeout;
}

/// <summary>Validated prompt logging: the mode of each route and client, and the redactor compiled once.</summary>
public sealed class PromptLogSettings
{
    public static readonly PromptLogSettings Off = new(PromptLogMode.Off, FrozenDictionary<string, PromptLogMode>.Empty,
        FrozenDictionary<string, PromptLogMode>.Empty, 0, null);

    private readonly PromptLogMode _mode;
    private readonly FrozenDictionary<string, PromptLogMode> _routes;
    private readonly FrozenDictionary<string, PromptLogMode> _clients;

    private PromptLogSettings(PromptLogMode mode, FrozenDictionary<string, PromptLogMode> routes, FrozenDictionary<string, PromptLogMode> clients,
        int maxLength, PromptRedactor? redactor)
    {
        _mode = mode;
        _routes = routes;
        _clients = clients;
        MaxLength = maxLength;
        Redactor = redactor ?? new PromptRedactor();
        AnyOn = mode != PromptLogMode.Off || routes.Values.Any(m => m != PromptLogMode.Off) || clients.Values.Any(m => m != PromptLogMode.Off);
    }

    /// <summary>False when no route or client logs prompts: the step costs one check per call.</summary>
    public bool AnyOn { get; }

    public int MaxLength { get; }

    public PromptRedactor Redactor { get; }

    public PromptLogMode ModeFor(string? route, string? client)
        => client is not null && _clients.TryGetValue(client, out var byClient) ? byClient
            : route is not null && _routes.TryGetValue(route, out var byRoute) ? byRoute
            : _mode;

    /// <summary>The settings, or <see cref="Off"/> with every error added to <paramref name="errors"/>.</summary>
    public static PromptLogSettings Build(PromptLoggingOptions options, IEnumerable<string> clients, List<string> errors)
    {
        const string Section = "Gateway:PromptLogging";
        var before = errors.Count;
        var mode = options.Mode is null ? PromptLogMode.Off : ConfigEnum<PromptLogMode>.Parse(options.Mode, $"{Section}:Mode", errors);
        var routes = options.Routes.ToFrozenDictionary(r => r.Key, r => ConfigEnum<PromptLogMode>.Parse(r.Value, $"{Section}:Routes:{r.Key}", errors), StringComparer.OrdinalIgnoreCase);
        var known = clients.ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var client in options.Clients.Keys.Where(c => !known.Contains(c)))
        {
            errors.Add($"{Section}:Clients:{client} names no configured client.");
        }

        var byClient = options.Clients.ToFrozenDictionary(c => c.Key, c => ConfigEnum<PromptLogMode>.Parse(c.Value, $"{Section}:Clients:{c.Key}", errors), StringComparer.OrdinalIgnoreCase);
        if (options.MaxLength is < 1 or > 1_000_000)
        {
            errors.Add($"{Section}:MaxLength must be between 1 and 1000000 characters (was {options.MaxLength}).");
        }

        if (options.MatchTimeout <= TimeSpan.Zero || options.MatchTimeout > TimeSpan.FromSeconds(10))
        {
            errors.Add($"{Section}:MatchTimeout must be above 0 and at most 00:00:10 (was {options.MatchTimeout}).");
        }

        errors.AddRange(PromptRedactor.Validate(options.Patterns, $"{Section}:Patterns"));
        return errors.Count > before
            ? Off
            : new PromptLogSettings(mode, routes, byClient, options.MaxLength, new PromptRedactor(options.Patterns, options.MatchTimeout));
    }
}
