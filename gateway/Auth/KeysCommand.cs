using System.Globalization;
using System.Text.Json;
using Gateway.Hosting;

namespace Gateway.Auth;

/// <summary>
/// <c>keys new --client ID</c>: prints a new client key once, and the lines to put in configuration.
/// <c>keys rotate --client ID [--overlap d.hh:mm:ss] [--label L] [--config folder]</c>: the same for a client already
/// configured, with its current keys kept until the end of the overlap (7 days unless told), so callers can move over.
/// </summary>
public static class KeysCommand
{
    public const string Usage = "usage: keys new --client <client-id>\n"
        + "       keys rotate --client <client-id> [--overlap <d.hh:mm:ss, default 7.00:00:00>] [--label <label>] [--config <folder>]\n"
        + "       (client id: letters, digits, '-', '_', '.')";

    private static readonly TimeSpan DefaultOverlap = TimeSpan.FromDays(7);

    /// <summary>True when the arguments ask for this command rather than for the server.</summary>
    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "keys";

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, TimeProvider? time = null)
    {
        var options = Options(args);
        var verb = args.Length > 1 ? args[1] : null;
        if (options is null || verb is not ("new" or "rotate") || !options.TryGetValue("--client", out var client) || !IsValidClientId(client)
            || options.Keys.Any(o => o is not ("--client" or "--overlap" or "--label" or "--config") || (verb == "new" && o != "--client")))
        {
            error.WriteLine(Usage);
            return 2;
        }

        if (verb == "new")
        {
            New(client, output);
            return 0;
        }

        var overlap = DefaultOverlap;
        if (options.TryGetValue("--overlap", out var text) && (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out overlap) || overlap < TimeSpan.Zero))
        {
            error.WriteLine($"--overlap '{text}' is not a time span (d.hh:mm:ss, e.g. 7.00:00:00).");
            return 2;
        }

        if (options.TryGetValue("--label", out var label) && !ClientKeyHasher.IsValidLabel(label))
        {
            error.WriteLine($"--label '{label}' must be 1 to 64 letters, digits, '.', ':', '-' or '_'.");
            return 2;
        }

        return Rotate(client, overlap, label, options.GetValueOrDefault("--config"), (time ?? TimeProvider.System).GetUtcNow(), output, error);
    }

    private static void New(string client, TextWriter output)
    {
        var key = ClientKeyHasher.NewKey();
        var hash = ClientKeyHasher.HashHex(key);
        PrintKey(client, key, output);
        output.WriteLine("Add the client to configuration in one of these forms (each works as printed):");
        output.WriteLine();
        output.WriteLine("  In a JSON file of config/ (merged with the others), or its \"Gateway\" object:");
        output.WriteLine($"    {{\"Gateway\": {{\"Clients\": {{\"{client}\": {{\"KeySha256\": \"{hash}\"}}}}}}}}");
        output.WriteLine();
        output.WriteLine("  On the command line:");
        output.WriteLine($"    dotnet run --project gateway -- --Gateway:Clients:{client}:KeySha256={hash}");
        output.WriteLine();
        output.WriteLine("  As an environment variable (bash cannot 'export' a name with '-' or '.'; env passes any, and so do Kubernetes and systemd):");
        output.WriteLine($"    env 'Gateway__Clients__{client}__KeySha256={hash}' dotnet run --project gateway");
    }

    // The client's keys as configured now, each kept until the end of the overlap at the latest (an expired one dropped),
    // then the new key: printed as the client's whole Keys list, which replaces its KeySha256 and Keys.
    private static int Rotate(string client, TimeSpan overlap, string? label, string? folder, DateTimeOffset now, TextWriter output, TextWriter error)
    {
        ClientOptions? current;
        string located;
        try
        {
            located = ConfigFiles.Locate(folder ?? Environment.GetEnvironmentVariable("Gateway__ConfigDirectory"), Directory.GetCurrentDirectory());
            current = ValidateConfigCommand.Configuration(located, []).GetSection($"Gateway:Clients:{client}").Get<ClientOptions>();
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or InvalidOperationException)
        {
            error.WriteLine(ex.Message);
            return 1;
        }

        if (current is null)
        {
            error.WriteLine($"Client '{client}' is not configured in {located} (nor in the environment): use 'keys new --client {client}'.");
            return 1;
        }

        var until = now + overlap;
        var kept = new List<(string Sha256, DateTimeOffset NotAfter, string Label)>();
        var old = new List<ClientKeyOptions>(current.Keys);
        if (current.KeySha256 is not null)
        {
            old.Insert(0, new ClientKeyOptions { Sha256 = current.KeySha256 });
        }

        foreach (var key in old)
        {
            var hash = ClientKeyHasher.ParseHash(key.Sha256);
            if (hash is null || key.NotAfter <= now)
            {
                continue;
            }

            var notAfter = key.NotAfter is { } end && end < until ? end : until;
            kept.Add((Convert.ToHexStringLower(hash), notAfter, key.Label ?? ClientKeyHasher.DefaultLabel(hash)));
        }

        var newKey = ClientKeyHasher.NewKey();
        var newHash = ClientKeyHasher.HashHex(newKey);
        label ??= now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        for (var n = 2; kept.Any(k => k.Label == label); n++)
        {
            label = $"{now.UtcDateTime:yyyy-MM-dd}-{n}";
        }

        PrintKey(client, newKey, output);
        output.WriteLine($"Replace the client's KeySha256 and Keys with this Keys list: the new key '{label}', and the {kept.Count} current key(s) working until {Iso(until)} at the latest.");
        output.WriteLine(current.KeysFrom is null ? "" : $"The client's keys in {current.KeysFrom} are not shown here: add a line '{newHash} label={label}' there and give the old lines notAfter={Iso(until)}.");
        output.WriteLine("  In a JSON file of config/ (merged with the others), or its \"Gateway\" object:");
        var keys = kept.Select(k => new Dictionary<string, string> { ["Sha256"] = k.Sha256, ["NotAfter"] = Iso(k.NotAfter), ["Label"] = k.Label })
            .Append(new Dictionary<string, string> { ["Sha256"] = newHash, ["Label"] = label }).ToList();
        var json = new Dictionary<string, object> { ["Gateway"] = new Dictionary<string, object> { ["Clients"] = new Dictionary<string, object> { [client] = new Dictionary<string, object> { ["Keys"] = keys } } } };
        output.WriteLine("    " + JsonSerializer.Serialize(json));
        output.WriteLine();
        output.WriteLine("  As environment variables (Kubernetes env entries, systemd Environment=):");
        for (var i = 0; i < keys.Count; i++)
        {
            foreach (var (name, value) in keys[i])
            {
                output.WriteLine($"    Gateway__Clients__{client}__Keys__{i}__{name}={value}");
            }
        }

        output.WriteLine();
        output.WriteLine($"Until {Iso(until)} both keys work; past it the old ones get 401 client_key_expired. gateway_client_key_last_used_timestamp_seconds{{client=\"{client}\"}} shows when each was last used.");
        return 0;
    }

    private static void PrintKey(string client, string key, TextWriter output)
    {
        output.WriteLine($"Client key for '{client}' (shown once; give it to the client, store it nowhere else):");
        output.WriteLine();
        output.WriteLine($"  {key}");
        output.WriteLine();
    }

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    // "--name value" pairs after the verb; null when one has no value or appears twice.
    private static Dictionary<string, string>? Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 2; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length || !options.TryAdd(args[i], args[i + 1]))
            {
                return null;
            }
        }

        return options;
    }

    private static bool IsValidClientId(string id)
        => id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
