using System.Collections.Frozen;
using Gateway.Hosting;
using Gateway.Limiting;
using Gateway.Routing;

namespace Gateway.Auth;

/// <summary>The clients (<c>Gateway:Clients</c>): key hashes, scopes, limit policies, budgets and per-provider headers.</summary>
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
            var hash = ClientKeyHasher.ParseHash(client.KeySha256);
            if (hash is null)
            {
                errors.Add($"{prefix}:KeySha256 must be the 64-character hex SHA-256 of the client's key (run 'keys new --client {id}').");
            }
            else if (seen.TryGetValue(Convert.ToHexString(hash), out var other))
            {
                errors.Add($"{prefix}:KeySha256 is the same as Gateway:Clients:{other}:KeySha256: every client needs its own key.");
            }
            else
            {
                seen[Convert.ToHexString(hash)] = id;
            }

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

            if (hash is not null)
            {
                clients.Add(new GatewayClient(
                    id,
                    hash,
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
                });
            }
        }

        return clients;
    }

    private static long? Micros(decimal? usd) => usd is { } value ? (long)(value * 1_000_000m) : null;
}
