using System.Collections.Frozen;
using Gateway.Hosting;
using Gateway.Limiting;
using Gateway.Routing;
using Gateway.Secrets;

namespace Gateway.Auth;

/// <summary>The clients (<c>Gateway:Clients</c>): key hashes, scopes, limit policies, budgets, per-provider headers and vendor keys.</summary>
internal static class ClientSettingsValidator
{
    public static List<GatewayClient> Clients(
        Dictionary<string, ClientOptions> options, Dictionary<string, ProviderSettings> providers, Dictionary<string, LimitPolicy> policies, List<string> errors)
    {
        var clients = new List<GatewayClient>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, client) in options)
        {
            var prefix = $"Gateway:Clients:{id}";
            var keys = Keys(client, prefix, id, seen, errors, out var keysFrom);
            foreach (var provider in client.Providers ?? [])
            {
                if (!providers.ContainsKey(provider))
                {
                    errors.Add($"{prefix}:Providers names '{provider}', which is not under Gateway:Providers (known: {string.Join(", ", providers.Keys)}).");
                }
            }

            var rateLimit = LimitingSettingsValidator.Policy(client.RateLimitPolicy, prefix + ":RateLimitPolicy", policies, errors);
            var modelRateLimit = LimitingSettingsValidator.Policy(client.ModelRateLimitPolicy, prefix + ":ModelRateLimitPolicy", policies, errors);
            var userRateLimit = LimitingSettingsValidator.Policy(client.UserRateLimitPolicy, prefix + ":UserRateLimitPolicy", policies, errors);
            foreach (var (name, budget) in new[] { ("DailyBudgetUsd", client.DailyBudgetUsd), ("UserDailyBudgetUsd", client.UserDailyBudgetUsd), ("SessionDailyBudgetUsd", client.SessionDailyBudgetUsd) })
            {
                if (budget is < 0)
                {
                    errors.Add($"{prefix}:{name} must not be negative (was {budget}).");
                }
            }

            var providerHeaders = new Dictionary<string, IReadOnlyList<KeyValuePair<string, string>>>(StringComparer.OrdinalIgnoreCase);
            foreach (var (provider, headers) in client.ProviderHeaders)
            {
                if (!providers.TryGetValue(provider, out var settings))
                {
                    errors.Add($"{prefix}:ProviderHeaders names '{provider}', which is not under Gateway:Providers (known: {string.Join(", ", providers.Keys)}).");
                    continue;
                }

                // The client's values replace the provider's of the same name; the provider's others still apply.
                var own = ProviderSettingsValidator.Headers(headers, $"{prefix}:ProviderHeaders:{provider}", errors);
                providerHeaders[provider] = [.. own, .. settings.Headers.Where(h => !own.Any(o => string.Equals(o.Key, h.Key, StringComparison.OrdinalIgnoreCase)))];
            }

            var providerKeys = new Dictionary<string, SecretReference>(StringComparer.OrdinalIgnoreCase);
            foreach (var (provider, text) in client.ProviderKeys)
            {
                var setting = $"{prefix}:ProviderKeys:{provider}";
                if (!providers.ContainsKey(provider))
                {
                    errors.Add($"{setting} names '{provider}', which is not under Gateway:Providers (known: {string.Join(", ", providers.Keys)}).");
                }
                else if (!SecretReference.TryParse(text, out var reference, out var error))
                {
                    errors.Add($"{setting} {error}.");
                }
                else
                {
                    providerKeys[provider] = reference!;
                }
            }

            if (keys is not null)
            {
                clients.Add(new GatewayClient(
                    id,
                    keys,
                    client.Providers?.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
                    client.Routes?.ToFrozenSet(StringComparer.OrdinalIgnoreCase))
                {
                    RateLimit = rateLimit,
                    ModelRateLimit = modelRateLimit,
                    UserRateLimit = userRateLimit,
                    DailyBudgetMicros = Micros(client.DailyBudgetUsd),
                    UserDailyBudgetMicros = Micros(client.UserDailyBudgetUsd),
                    SessionDailyBudgetMicros = Micros(client.SessionDailyBudgetUsd),
                    ProviderHeaders = providerHeaders.Count == 0 ? null : providerHeaders.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
                    ProviderKeys = providerKeys.Count == 0 ? null : providerKeys.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
                    KeysFrom = keysFrom,
                });
            }
        }

        return clients;
    }

    // KeySha256 (one key, no expiry), Keys (several, each with its expiry and label) and KeysFrom (a secret listing more):
    // at least one of them; a hash belongs to one client only, once. Null when a key is at fault.
    private static List<ClientKey>? Keys(ClientOptions client, string prefix, string id, Dictionary<string, string> seen, List<string> errors, out SecretReference? keysFrom)
    {
        keysFrom = null;
        var keys = new List<ClientKey>();
        var faults = errors.Count;
        void Add(string? hex, DateTimeOffset? notAfter, string? label, string setting)
        {
            var hash = ClientKeyHasher.ParseHash(hex);
            if (hash is null)
            {
                errors.Add($"{setting} must be the 64-character hex SHA-256 of the client's key (run 'keys new --client {id}').");
                return;
            }

            var text = Convert.ToHexString(hash);
            if (seen.TryGetValue(text, out var other))
            {
                errors.Add($"{setting} is the same as {other}: every client needs its own key, and each key is listed once.");
                return;
            }

            if (label is not null && !ClientKeyHasher.IsValidLabel(label))
            {
                errors.Add($"{setting.Replace(":Sha256", ":Label", StringComparison.Ordinal)} '{label}' must be 1 to 64 letters, digits, '.', ':', '-' or '_'.");
                return;
            }

            seen[text] = setting;
            keys.Add(new ClientKey(hash, notAfter, label ?? ClientKeyHasher.DefaultLabel(hash)));
        }

        if (client.KeySha256 is not null)
        {
            Add(client.KeySha256, null, null, $"{prefix}:KeySha256");
        }

        for (var i = 0; i < client.Keys.Length; i++)
        {
            Add(client.Keys[i].Sha256, client.Keys[i].NotAfter, client.Keys[i].Label, $"{prefix}:Keys:{i}:Sha256");
        }

        var labels = keys.GroupBy(k => k.Label, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (labels.Count > 0)
        {
            errors.Add($"{prefix}:Keys: {string.Join(", ", labels.Select(l => $"label '{l}'"))} is on more than one key; each key needs its own label.");
        }

        if (client.KeysFrom is { } reference)
        {
            if (SecretReference.TryParse(reference, out var parsed, out var error))
            {
                keysFrom = parsed;
            }
            else
            {
                errors.Add($"{prefix}:KeysFrom {error}.");
            }
        }
        else if (client.KeySha256 is null && client.Keys.Length == 0)
        {
            errors.Add($"{prefix} has no key: set KeySha256, Keys or KeysFrom (run 'keys new --client {id}').");
        }

        return errors.Count == faults ? keys : null;
    }

    private static long? Micros(decimal? usd) => usd is { } value ? (long)(value * 1_000_000m) : null;
}
