using System.Collections.Frozen;
using Gateway.Auth;
using Gateway.Limiting;
using Gateway.Secrets;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Tasks;
using Gateway.Transforms.Vendors;

namespace Gateway.Hosting;

/// <summary>Turns <see cref="GatewayOptions"/> into <see cref="GatewaySettings"/>, listing every error at once.</summary>
internal static class GatewaySettingsValidator
{
    public static GatewaySettings? Build(GatewayOptions options, string hostEnvironment, out List<string> errors)
    {
        errors = [];
        var providers = BuildProviders(options.Providers, errors);
        var policies = BuildPolicies(options.RateLimiting, errors);
        var clients = BuildClients(options.Clients, providers, policies, errors);
        var models = BuildModels(options.Models, providers, errors);
        var prices = BuildPrices(options.Prices, errors);
        var formats = new Dictionary<string, string>(PromptOptions.DefaultFormats, StringComparer.Ordinal);
        foreach (var (format, instruction) in options.Prompts.Formats)
        {
            if (!formats.ContainsKey(format))
            {
                errors.Add($"Gateway:Prompts:Formats:{format} is not a format (formats: {string.Join(", ", PromptOptions.DefaultFormats.Keys)}).");
            }

            formats[format] = instruction;
        }

        if (string.IsNullOrWhiteSpace(options.Prompts.SummarizeInstruction))
        {
            errors.Add("Gateway:Prompts:SummarizeInstruction must not be empty.");
        }

        if (options.Tasks.DefaultMaxTokens is < 1 or > Gateway.Transforms.Schema.SchemaLimits.MaxOutputTokens)
        {
            errors.Add($"Gateway:Tasks:DefaultMaxTokens must be from 1 to {Gateway.Transforms.Schema.SchemaLimits.MaxOutputTokens} (was {options.Tasks.DefaultMaxTokens}).");
        }

        if (options.Limits.MaxRequestBodyBytes <= 0)
        {
            errors.Add($"Gateway:Limits:MaxRequestBodyBytes must be greater than 0 (was {options.Limits.MaxRequestBodyBytes}).");
        }

        if (options.Forwarding.DefaultActivityTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:Forwarding:DefaultActivityTimeout must be positive (was {options.Forwarding.DefaultActivityTimeout}).");
        }

        if (options.Secrets.FileRefreshInterval < TimeSpan.Zero)
        {
            errors.Add($"Gateway:Secrets:FileRefreshInterval must not be negative (was {options.Secrets.FileRefreshInterval}).");
        }

        if (errors.Count > 0)
        {
            return null;
        }

        return new GatewaySettings
        {
            ServiceName = options.ServiceName,
            Environment = string.IsNullOrWhiteSpace(options.Environment) ? hostEnvironment.ToLowerInvariant() : options.Environment,
            MaxRequestBodyBytes = options.Limits.MaxRequestBodyBytes,
            DefaultActivityTimeout = options.Forwarding.DefaultActivityTimeout,
            FileRefreshInterval = options.Secrets.FileRefreshInterval,
            Providers = providers.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Clients = [.. clients],
            Models = models.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Prices = prices.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            SummarizeInstruction = options.Prompts.SummarizeInstruction,
            FormatInstructions = formats.ToFrozenDictionary(StringComparer.Ordinal),
            DefaultMaxTokens = options.Tasks.DefaultMaxTokens,
            RateLimiting = options.RateLimiting,
            HighestPrice = prices.Count == 0 ? default : new ModelPrice(prices.Values.Max(p => p.InputPerMillionUsd), prices.Values.Max(p => p.OutputPerMillionUsd)),
        };
    }

    private static Dictionary<string, ModelRoute> BuildModels(
        Dictionary<string, ModelOptions> options, Dictionary<string, ProviderSettings> providers, List<string> errors)
    {
        var models = new Dictionary<string, ModelRoute>(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, model) in options)
        {
            var prefix = $"Gateway:Models:{alias}";
            if (alias.Contains('/'))
            {
                errors.Add($"{prefix}: an alias must not contain '/' (that spelling means provider/model).");
            }

            if (string.IsNullOrWhiteSpace(model.Model))
            {
                errors.Add($"{prefix}:Model must name the vendor's model id.");
            }

            if (model.Provider is null || !providers.TryGetValue(model.Provider, out var provider))
            {
                errors.Add($"{prefix}:Provider '{model.Provider}' is not under Gateway:Providers (known: {string.Join(", ", providers.Keys)}).");
                continue;
            }

            if (!string.IsNullOrWhiteSpace(model.Model))
            {
                models[alias] = new ModelRoute(provider, model.Model);
            }
        }

        if (options.Count > 0 && !options.ContainsKey(ModelRoute.DefaultAlias))
        {
            errors.Add($"Gateway:Models:{ModelRoute.DefaultAlias} is required: it serves requests that name no model.");
        }

        return models;
    }

    private static Dictionary<string, ModelPrice> BuildPrices(Dictionary<string, PriceOptions> options, List<string> errors)
    {
        var prices = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in options)
        {
            if (price.InputPerMillionUsd < 0 || price.OutputPerMillionUsd < 0)
            {
                errors.Add($"Gateway:Prices:{model}: prices must not be negative.");
                continue;
            }

            prices[model] = new ModelPrice(price.InputPerMillionUsd, price.OutputPerMillionUsd);
        }

        return prices;
    }

    private static Dictionary<string, ProviderSettings> BuildProviders(Dictionary<string, ProviderOptions> options, List<string> errors)
    {
        var providers = new Dictionary<string, ProviderSettings>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, provider) in options)
        {
            var vendorName = provider.Vendor ?? name;
            if (!VendorCatalog.All.TryGetValue(vendorName, out var vendor))
            {
                errors.Add($"Gateway:Providers:{name}:Vendor '{vendorName}' is not a known vendor (known: {string.Join(", ", VendorCatalog.All.Keys)}).");
                continue;
            }

            var keyText = provider.ApiKey ?? $"env:{name.ToUpperInvariant().Replace('-', '_')}_API_KEY";
            if (!SecretReference.TryParse(keyText, out var reference, out var error))
            {
                errors.Add($"Gateway:Providers:{name}:ApiKey {error}.");
                continue;
            }

            providers[name] = new ProviderSettings(new ProviderBinding(name, vendor), reference!);
        }

        return providers;
    }

    private static Dictionary<string, LimitPolicy> BuildPolicies(RateLimitingOptions options, List<string> errors)
    {
        var policies = new Dictionary<string, LimitPolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, policy) in options.Policies)
        {
            var prefix = $"Gateway:RateLimiting:Policies:{name}";
            var before = errors.Count;
            if (policy.Requests is null && policy.Tokens is null)
            {
                errors.Add($"{prefix} limits nothing: set Requests and/or Tokens.");
            }

            if (policy.Requests is < 1)
            {
                errors.Add($"{prefix}:Requests must be at least 1 (was {policy.Requests}).");
            }

            if (policy.Tokens is < 1)
            {
                errors.Add($"{prefix}:Tokens must be at least 1 (was {policy.Tokens}).");
            }

            if (policy.Window < TimeSpan.FromSeconds(1) || policy.Window > TimeSpan.FromDays(1))
            {
                errors.Add($"{prefix}:Window must be from 00:00:01 to 1.00:00:00 (was {policy.Window}).");
            }

            if (policy.OnRedisFailure is not ("open" or "closed"))
            {
                errors.Add($"{prefix}:OnRedisFailure must be 'open' or 'closed' (was '{policy.OnRedisFailure}').");
            }

            if (errors.Count == before)
            {
                policies[name] = new LimitPolicy(name, policy.Requests, policy.Tokens, policy.Window, policy.OnRedisFailure == "open");
            }
        }

        if (options.RedisTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:RateLimiting:RedisTimeout must be positive (was {options.RedisTimeout}).");
        }

        if (options.ExpectedReplicas < 1)
        {
            errors.Add($"Gateway:RateLimiting:ExpectedReplicas must be at least 1 (was {options.ExpectedReplicas}).");
        }

        if (options.Clock is not ("redis" or "local"))
        {
            errors.Add($"Gateway:RateLimiting:Clock must be 'redis' or 'local' (was '{options.Clock}').");
        }

        return policies;
    }

    private static LimitPolicy? Policy(string? name, string setting, Dictionary<string, LimitPolicy> policies, List<string> errors)
    {
        if (name is null)
        {
            return null;
        }

        if (policies.TryGetValue(name, out var policy))
        {
            return policy;
        }

        errors.Add($"{setting} names policy '{name}', which is not under Gateway:RateLimiting:Policies (known: {string.Join(", ", policies.Keys)}).");
        return null;
    }

    private static List<GatewayClient> BuildClients(
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

            var rateLimit = Policy(client.RateLimitPolicy, prefix + ":RateLimitPolicy", policies, errors);
            var modelRateLimit = Policy(client.ModelRateLimitPolicy, prefix + ":ModelRateLimitPolicy", policies, errors);
            var userRateLimit = Policy(client.UserRateLimitPolicy, prefix + ":UserRateLimitPolicy", policies, errors);
            if (client.DailyBudgetUsd is < 0)
            {
                errors.Add($"{prefix}:DailyBudgetUsd must not be negative (was {client.DailyBudgetUsd}).");
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
                    DailyBudgetMicros = client.DailyBudgetUsd is { } budget ? (long)(budget * 1_000_000m) : null,
                });
            }
        }

        return clients;
    }
}
