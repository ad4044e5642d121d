using Gateway.Hosting;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace Gateway.Routing;

/// <summary>
/// Provider switching with feature flags (Microsoft.FeatureManagement, read from the <c>FeatureManagement</c> section
/// and reloaded with it): an alias's switches move a caller's calls to another target while their flag is on for that
/// caller, and a provider's kill switch keeps every call away from it. Flags are evaluated with the client id as the
/// targeting group and client + end user as the user, so a percentage rollout is the same for a caller every time.
/// </summary>
internal sealed class ProviderSwitches(IFeatureManager flags)
{
    /// <summary>
    /// Where this caller's call to <paramref name="model"/> goes: the first switch on for it (unless the request's
    /// temperature is more than that vendor accepts: a switch never makes a valid request invalid), then past any
    /// provider switched off, to the first fallback that is not; null when every candidate is switched off.
    /// </summary>
    public async ValueTask<ModelRoute?> ChooseAsync(ModelRoute model, string? client, string? user, double? temperature)
    {
        TargetingContext? caller = null;
        foreach (var (flag, to) in model.Switches)
        {
            if (temperature > to.Provider.Binding.Vendor.MaxTemperature)
            {
                continue;
            }

            caller ??= Caller(client, user);
            if (await flags.IsEnabledAsync(flag, caller))
            {
                model = to;
                break;
            }
        }

        if (model.Provider.OffFlag is null && model.Fallbacks.All(f => f.Provider.OffFlag is null))
        {
            return model;
        }

        // Each candidate's kill switch is read once: the first one on is the target, the others stay its fallbacks.
        var candidates = new List<ModelRoute>(model.Fallbacks.Count + 1);
        foreach (var candidate in (IEnumerable<ModelRoute>)[model with { Fallbacks = [] }, .. model.Fallbacks])
        {
            if (!await IsOffAsync(candidate.Provider))
            {
                candidates.Add(candidate);
            }
        }

        return candidates.Count == 0 ? null : candidates[0] with { Fallbacks = candidates[1..] };
    }

    /// <summary>Whether a call to this alias has anything to decide: a switch, or a kill switch on its providers.</summary>
    public static bool Apply(ModelRoute model)
        => model.Switches.Count > 0 || model.Provider.OffFlag is not null || model.Fallbacks.Any(f => f.Provider.OffFlag is not null);

    /// <summary>Whether the provider's kill switch is on.</summary>
    public async ValueTask<bool> IsOffAsync(ProviderSettings provider) => provider.OffFlag is { } flag && await flags.IsEnabledAsync(flag);

    private static TargetingContext Caller(string? client, string? user) => new()
    {
        UserId = $"{client}/{user}",
        Groups = client is null ? [] : [client],
    };
}
