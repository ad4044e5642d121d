using Gateway.Transforms.Contracts;
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
    public static GatewaySettings? Build(GatewayOptions options, string hostEnvironment, VendorCatalog vendors, out List<string> errors)
    {
        errors = [];
        var providers = BuildProviders(options.Providers, vendors, errors);
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

        if (options.Secrets.PollInterval <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:Secrets:PollInterval must be positive (was {options.Secrets.PollInterval}).");
        }

        if (options.Secrets.Jitter is < 0 or > 0.5)
        {
            errors.Add($"Gateway:Secrets:Jitter must be from 0 to 0.5 (was {options.Secrets.Jitter}).");
        }

        ValidateVault(options.Vault, errors);

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
            AllowNoRoutes = options.Forwarding.AllowNoRoutes,
            Secrets = options.Secrets,
            Vault = options.Vault,
            SecretReferences = [.. providers.Values.SelectMany(p => p.ApiKeys).Distinct()],
            Providers = providers.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Clients = [.. clients],
            Models = models.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Prices = prices.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            KnownModels = models.Values.Select(m => m.ModelId).Concat(prices.Keys).ToFrozenSet(StringComparer.OrdinalIgnoreCase),
            TaskPrompts = new TaskPrompts(options.Prompts.SummarizeInstruction, formats.ToFrozenDictionary(StringComparer.Ordinal), options.Tasks.DefaultMaxTokens),
            RateLimiting = options.RateLimiting,
            HighestPrice = prices.Count == 0 ? default : new ModelPrice(prices.Values.Max(p => p.InputPerMillionUsd), prices.Values.Max(p => p.OutputPerMillionUsd)),
        };
    }

    private static void ValidateVault(VaultOptions vault, List<string> errors)
    {
        if (vault.Auth.Method is not ("token" or "approle" or "kubernetes"))
        {
            errors.Add($"Gateway:Vault:Auth:Method must be 'token', 'approle' or 'kubernetes' (was '{vault.Auth.Method}').");
        }

        if (vault.Auth.Method == "approle" && (vault.Auth.RoleId is null || vault.Auth.SecretId is null))
        {
            errors.Add("Gateway:Vault:Auth:RoleId and :SecretId must be set (env: or file: references) for the approle method.");
        }

        if (vault.Auth.Method == "kubernetes" && string.IsNullOrWhiteSpace(vault.Auth.Role))
        {
            errors.Add("Gateway:Vault:Auth:Role must name the Vault role for the kubernetes method.");
        }

        foreach (var (mount, options) in vault.Mounts)
        {
            if (options.Version is not (1 or 2))
            {
                errors.Add($"Gateway:Vault:Mounts:{mount}:Version must be 1 or 2 (was {options.Version}).");
            }
        }

        if (vault.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:Vault:Timeout must be positive (was {vault.Timeout}).");
        }
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

            var fields = new List<KeyValuePair<string, string>>();
            foreach (var (name, value) in model.RequestFields)
            {
                if (Gateway.Transforms.Vendors.VendorJson.ReservedFields.Contains(name))
                {
                    errors.Add($"{prefix}:RequestFields:{name}: the gateway writes '{name}' itself (reserved: {string.Join(", ", Gateway.Transforms.Vendors.VendorJson.ReservedFields)}).");
                    continue;
                }

                fields.Add(new(name, JsonValue(value)));
            }

            if (!string.IsNullOrWhiteSpace(model.Model))
            {
                models[alias] = new ModelRoute(provider, model.Model) { AcceptsTemperature = model.AcceptsTemperature, RequestFields = fields };
            }
        }

        if (options.Count > 0 && !options.ContainsKey(ModelRoute.DefaultAlias))
        {
            errors.Add($"Gateway:Models:{ModelRoute.DefaultAlias} is required: it serves requests that name no model.");
        }

        return models;
    }

    private static long? Micros(decimal? usd) => usd is { } value ? (long)(value * 1_000_000m) : null;

    // A configuration value as a JSON value: a number or literal as such, anything else as a string.
    private static string JsonValue(string? value)
    {
        try
        {
            using var parsed = System.Text.Json.JsonDocument.Parse(value ?? "");
            if (parsed.RootElement.ValueKind is System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.True
                or System.Text.Json.JsonValueKind.False or System.Text.Json.JsonValueKind.Null)
            {
                return parsed.RootElement.GetRawText();
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return System.Text.Json.JsonSerializer.Serialize(value ?? "");
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

    private static Dictionary<string, ProviderSettings> BuildProviders(Dictionary<string, ProviderOptions> options, VendorCatalog vendors, List<string> errors)
    {
        var providers = new Dictionary<string, ProviderSettings>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, provider) in options)
        {
            var vendorName = provider.Vendor ?? name;
            if (!vendors.TryGet(vendorName, out var vendor))
            {
                errors.Add($"Gateway:Providers:{name}:Vendor '{vendorName}' is not a known vendor (known: {string.Join(", ", vendors.Names)}).");
                continue;
            }

            var setting = provider.ApiKeys is null ? $"Gateway:Providers:{name}:ApiKey" : $"Gateway:Providers:{name}:ApiKeys";
            string[] texts = provider.ApiKeys ?? [provider.ApiKey ?? $"env:{name.ToUpperInvariant().Replace('-', '_')}_API_KEY"];
            var references = new List<SecretReference>();
            foreach (var text in texts)
            {
                if (SecretReference.TryParse(text, out var reference, out var error))
                {
                    references.Add(reference!);
                }
                else
                {
                    errors.Add($"{setting} {error}.");
                }
            }

            if (texts.Length == 0)
            {
                errors.Add($"{setting} is empty: name at least one key reference.");
            }

            if (provider.KeySelection is not ("failover" or "round-robin"))
            {
                errors.Add($"Gateway:Providers:{name}:KeySelection must be 'failover' or 'round-robin' (was '{provider.KeySelection}').");
            }

            var headers = ProviderHeaders(provider.Headers, $"Gateway:Providers:{name}:Headers", errors);
            if (references.Count == texts.Length && texts.Length > 0)
            {
                providers[name] = new ProviderSettings(new ProviderBinding(name, vendor), references, provider.KeySelection == "round-robin") { Headers = headers };
            }
        }

        return providers;
    }

    // Header names must be tokens and values printable ASCII (what an HTTP client can send); credentials have their own settings.
    private static List<KeyValuePair<string, string>> ProviderHeaders(Dictionary<string, string> headers, string setting, List<string> errors)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in headers)
        {
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                errors.Add($"{setting}:{name}: '{name}' is not a header name.");
            }
            else if (value is null || value.Any(c => c is < ' ' or > '~'))
            {
                errors.Add($"{setting}:{name} must be printable ASCII.");
            }
            else if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || name.Equals("x-api-key", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith(Gateway.Transforms.Passthrough.CallerHeaderPolicy.InternalPrefix, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{setting}:{name}: keys go in ApiKey/ApiKeys (secret references) and x-gateway-* headers are the gateway's own; set other headers here.");
            }
            else
            {
                result.Add(new(name, value));
            }
        }

        return result;
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

        if (options.SettleLinger < TimeSpan.Zero || options.SettleLinger > TimeSpan.FromSeconds(1))
        {
            errors.Add($"Gateway:RateLimiting:SettleLinger must be between 0 and 1 s (was {options.SettleLinger}).");
        }

        var breaker = options.Breaker;
        if (breaker.FailureRatio is <= 0 or > 1)
        {
            errors.Add($"Gateway:RateLimiting:Breaker:FailureRatio must be above 0 and at most 1 (was {breaker.FailureRatio}).");
        }

        if (breaker.MinimumThroughput < 2)
        {
            errors.Add($"Gateway:RateLimiting:Breaker:MinimumThroughput must be at least 2 (was {breaker.MinimumThroughput}).");
        }

        if (breaker.SamplingDuration < TimeSpan.FromMilliseconds(500) || breaker.BreakDuration < TimeSpan.FromMilliseconds(500))
        {
            errors.Add($"Gateway:RateLimiting:Breaker:SamplingDuration and :BreakDuration must be at least 00:00:00.5 (were {breaker.SamplingDuration} and {breaker.BreakDuration}).");
        }

        if (!options.SessionHeader.StartsWith(Gateway.Transforms.Passthrough.CallerHeaderPolicy.InternalPrefix, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Gateway:RateLimiting:SessionHeader must start with '{Gateway.Transforms.Passthrough.CallerHeaderPolicy.InternalPrefix.ToLowerInvariant()}', so it never reaches a vendor (was '{options.SessionHeader}').");
        }

        if (options.ExpectedReplicas < 1)
        {
            errors.Add($"Gateway:RateLimiting:ExpectedReplicas must be at least 1 (was {options.ExpectedReplicas}).");
        }

        if (!options.UserHeader.StartsWith(Gateway.Transforms.Passthrough.CallerHeaderPolicy.InternalPrefix, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Gateway:RateLimiting:UserHeader must start with '{Gateway.Transforms.Passthrough.CallerHeaderPolicy.InternalPrefix.ToLowerInvariant()}', so it never reaches a vendor (was '{options.UserHeader}').");
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
                var own = ProviderHeaders(headers, $"{prefix}:ProviderHeaders:{provider}", errors);
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
}
