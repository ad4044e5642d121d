using System.Collections.Frozen;
using Gateway.Auth;
using Gateway.Limiting;
using Gateway.Resilience;
using Gateway.Routing;
using Gateway.Secrets;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Vendors;

namespace Gateway.Hosting;

/// <summary>
/// Turns <see cref="GatewayOptions"/> into <see cref="GatewaySettings"/>: each feature's validator reads its own
/// sections, all of them add to one list, so start-up and reload report every error at once.
/// </summary>
internal static class GatewaySettingsValidator
{
    public static GatewaySettings? Build(GatewayOptions options, string hostEnvironment, VendorCatalog vendors, IReadOnlySet<string> flags, out List<string> errors)
    {
        errors = [];
        var providers = ProviderSettingsValidator.Providers(options.Providers, vendors, flags, errors);
        var policies = LimitingSettingsValidator.Policies(options.RateLimiting, errors, out var clock);
        var clients = ClientSettingsValidator.Clients(options.Clients, providers, policies, errors);
        var models = TaskSettingsValidator.Models(options.Models, providers, flags, errors);
        var prices = TaskSettingsValidator.Prices(options.Prices, errors);
        var prompts = TaskSettingsValidator.Prompts(options.Prompts, options.Tasks, errors);
        ForwardingSettingsValidator.Validate(options.Limits, options.Forwarding, errors);
        var resilience = ResilienceSettingsValidator.Build(options.Resilience, options.Providers.Keys, errors);
        ShutdownOptions.Check(options.Shutdown, errors);
        var vaultAuth = SecretsSettingsValidator.Validate(options.Secrets, options.Vault, errors);
        SecretsSettingsValidator.Validate(options.Aws, errors);
        var promptLog = Gateway.Telemetry.PromptLogSettings.Build(options.PromptLogging, options.Clients.Keys, errors);
        var (retention, adminKey) = Gateway.Errors.AdminOptions.Validate(options.Escalation, options.Admin, errors);
        var accessLog = options.AccessLog.Output is null
            ? Gateway.Telemetry.AccessLogOutput.Stdout
            : ConfigEnum<Gateway.Telemetry.AccessLogOutput>.Parse(options.AccessLog.Output, "Gateway:AccessLog:Output", errors);

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
            Aws = options.Aws,
            VaultAuthMethod = vaultAuth,
            SecretReferences = [.. providers.Values.SelectMany(p => p.ApiKeys).Concat(clients.SelectMany(c => c.ProviderKeys?.Values ?? []))
                .Concat(clients.Select(c => c.KeysFrom).OfType<SecretReference>()).Distinct()],
            Providers = providers.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Clients = [.. clients],
            Models = models.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            Prices = prices.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            KnownModels = models.Values.Select(m => m.ModelId).Concat(prices.Keys).ToFrozenSet(StringComparer.OrdinalIgnoreCase),
            TaskPrompts = prompts,
            RateLimiting = options.RateLimiting,
            LimiterClock = clock,
            Resilience = resilience,
            PromptLog = promptLog,
            AccessLogOutput = accessLog,
            EscalationRetention = retention,
            AdminKeyHash = adminKey,
            HighestPrice = prices.Count == 0 ? default : new ModelPrice(prices.Values.Max(p => p.InputPerMillionUsd), prices.Values.Max(p => p.OutputPerMillionUsd)),
        };
    }
}
