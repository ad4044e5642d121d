using Gateway.Transforms.Contracts;
using System.Collections.Frozen;
using Gateway.Auth;
using Gateway.Secrets;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Tasks;

namespace Gateway.Hosting;

/// <summary>A validated, immutable snapshot of the <c>Gateway</c> section, swapped whole on reload.</summary>
public sealed class GatewaySettings
{
    public required string ServiceName { get; init; }

    public required string Environment { get; init; }

    public required long MaxRequestBodyBytes { get; init; }

    public required TimeSpan DefaultActivityTimeout { get; init; }

    /// <summary>Whether a ReverseProxy change that leaves no route is applied.</summary>
    public required bool AllowNoRoutes { get; init; }

    public required SecretsOptions Secrets { get; init; }

    public required VaultOptions Vault { get; init; }

    /// <summary>AWS settings for <c>aws-sm:</c> references.</summary>
    public AwsOptions Aws { get; init; } = new();

    /// <summary>How the gateway logs in to Vault, as read from <c>Gateway:Vault:Auth:Method</c>.</summary>
    public required VaultAuthMethod VaultAuthMethod { get; init; }

    /// <summary>Least time between two forced re-reads of one secret.</summary>
    public TimeSpan MinRefreshInterval => Secrets.MinRefreshInterval;

    /// <summary>Every secret reference the providers use, for polling and readiness.</summary>
    public required IReadOnlyList<SecretReference> SecretReferences { get; init; }

    public required FrozenDictionary<string, ProviderSettings> Providers { get; init; }

    /// <summary>How long escalation blocks are kept.</summary>
    public TimeSpan EscalationRetention { get; init; } = Gateway.Errors.EscalationOptions.DefaultRetention;

    /// <summary>SHA-256 of the operations API's key, or null when that API is off.</summary>
    public byte[]? AdminKeyHash { get; init; }

    /// <summary>Where access log lines go.</summary>
    public Gateway.Telemetry.AccessLogOutput AccessLogOutput { get; init; }

    /// <summary>Which calls get a prompt log line, and how it is sanitized.</summary>
    public Gateway.Telemetry.PromptLogSettings PromptLog { get; init; } = Gateway.Telemetry.PromptLogSettings.Off;

    public required GatewayClient[] Clients { get; init; }

    /// <summary>Model aliases (case-insensitive).</summary>
    public required FrozenDictionary<string, ModelRoute> Models { get; init; }

    /// <summary>Prices by vendor model id (case-insensitive).</summary>
    public required FrozenDictionary<string, ModelPrice> Prices { get; init; }

    /// <summary>How task prompts are shaped: the summarize instruction, one instruction per format, the default output limit.</summary>
    public required TaskPrompts TaskPrompts { get; init; }

    /// <summary>The limiter's settings (policies are resolved onto each client).</summary>
    public required Gateway.Limiting.RateLimitingOptions RateLimiting { get; init; }

    /// <summary>Retries of vendor calls, per provider.</summary>
    public required Gateway.Resilience.ResilienceSettings Resilience { get; init; }

    /// <summary>Whose clock the shared windows run on, as read from <c>Gateway:RateLimiting:Clock</c>.</summary>
    public required Gateway.Limiting.LimiterClock LimiterClock { get; init; }

    /// <summary>Every model id configuration names (alias targets and the price table), case-insensitive.</summary>
    public required FrozenSet<string> KnownModels { get; init; }

    /// <summary>The label value for any model that configuration does not name.</summary>
    public const string OtherModel = "other";

    /// <summary>
    /// A model as a metric label: a model configuration names (in its spelling), a vendor-reported id that starts with
    /// one (<c>gpt-6-luna-2026-09-22</c>) when <paramref name="reportedByVendor"/>, else <c>other</c> — so no caller
    /// can grow the label set by asking for made-up models.
    /// </summary>
    public string? ModelLabel(string? model, bool reportedByVendor = false)
    {
        if (model is null)
        {
            return null;
        }

        if (KnownModels.TryGetValue(model, out var known))
        {
            return known;
        }

        if (reportedByVendor && model.Length <= 128)
        {
            foreach (var id in KnownModels)
            {
                if (model.StartsWith(id, StringComparison.OrdinalIgnoreCase))
                {
                    return model;
                }
            }
        }

        return OtherModel;
    }

    /// <summary>The highest price in the table, to reserve cost for calls whose model is not known up front.</summary>
    public required ModelPrice HighestPrice { get; init; }

    /// <summary>
    /// The price of a model id as a vendor reports it: an exact entry, else the longest entry it starts with
    /// (<c>gpt-6-luna-2026-09-22</c> → <c>gpt-6-luna</c>), else the highest price (never under-charge a budget).
    /// </summary>
    public ModelPrice PriceOf(string? model)
    {
        if (model is null)
        {
            return HighestPrice;
        }

        if (Prices.TryGetValue(model, out var exact))
        {
            return exact;
        }

        var best = -1;
        var price = HighestPrice;
        foreach (var (id, candidate) in Prices)
        {
            if (id.Length > best && model.StartsWith(id, StringComparison.OrdinalIgnoreCase))
            {
                (best, price) = (id.Length, candidate);
            }
        }

        return price;
    }

    /// <summary>
    /// What a call cost in USD: its usage at its price (known up front for a task's model, else the price of the model
    /// the vendor says answered, or of the one the caller asked for when the vendor's answer names none — Cohere's);
    /// null while the vendor reported no usage.
    /// </summary>
    public decimal? CostOf(CallRecord? call, CallOutcome outcome)
        => outcome.Usage is { } usage ? (call?.Price ?? PriceOf(outcome.ResponseModel ?? call?.Model)).Cost(usage) : null;

    /// <summary>
    /// Resolves a request's <c>model</c>: an alias, or <c>provider/model</c>; null means the <c>default</c> alias.
    /// </summary>
    public bool TryResolveModel(string? model, out ModelRoute route, out string error)
    {
        route = null!;
        error = "";
        model ??= ModelRoute.DefaultAlias;
        var slash = model.IndexOf('/');
        if (slash < 0)
        {
            if (Models.TryGetValue(model, out route!))
            {
                return true;
            }

            error = $"'{model}' is not a model alias (known: {string.Join(", ", Models.Keys)}); name a vendor model as provider/model";
            return false;
        }

        var provider = model[..slash];
        var id = model[(slash + 1)..];
        if (!Providers.TryGetValue(provider, out var settings))
        {
            error = $"provider '{provider}' is not configured (known: {string.Join(", ", Providers.Keys)})";
            return false;
        }

        if (id.Length == 0)
        {
            error = "names no model after the provider: write provider/model";
            return false;
        }

        route = new ModelRoute(settings, id);
        return true;
    }
}

/// <summary>Where a model alias goes: a provider and the vendor's model id.</summary>
public sealed record ModelRoute(ProviderSettings Provider, string ModelId)
{
    public const string DefaultAlias = "default";

    /// <summary>Whether a request's temperature is sent for this model.</summary>
    public bool AcceptsTemperature { get; init; } = true;

    /// <summary>Vendor-specific request fields (name, JSON value) configuration adds for this alias.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> RequestFields { get; init; } = [];

    /// <summary>Where the alias's calls go, in order, while its provider's breaker is open.</summary>
    public IReadOnlyList<ModelRoute> Fallbacks { get; init; } = [];

    /// <summary>Provider switches, first enabled wins: a feature flag and where the calls go while it is on.</summary>
    public IReadOnlyList<(string Flag, ModelRoute To)> Switches { get; init; } = [];

    /// <summary>The model as the task planner targets it, with its price from the table when it has one.</summary>
    public TaskTarget Target(FrozenDictionary<string, ModelPrice> prices)
        => new(Provider.Binding, ModelId, AcceptsTemperature, RequestFields, prices.TryGetValue(ModelId, out var price) ? price : null);
}

/// <summary>A provider with its vendor and parsed key references (one, or several for overlapping rotations).</summary>
public sealed record ProviderSettings(ProviderBinding Binding, IReadOnlyList<SecretReference> ApiKeys, KeySelection KeySelection)
{
    /// <summary>The kill-switch feature flag: while it is on, no call goes to this provider.</summary>
    public string? OffFlag { get; init; }

    /// <summary>Headers sent on every call to the provider (organization, project…).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The first key reference.</summary>
    public SecretReference ApiKey => ApiKeys[0];

    /// <summary>The configuration key that holds the references, for error messages.</summary>
    public string Setting => ApiKeys.Count == 1 ? $"Gateway:Providers:{Binding.Name}:ApiKey" : $"Gateway:Providers:{Binding.Name}:ApiKeys";
}
