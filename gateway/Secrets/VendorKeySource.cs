using System.Collections.Concurrent;
using Gateway.Hosting;
using Gateway.Transforms.Contracts;

namespace Gateway.Secrets;

/// <summary>
/// Picks the key for a provider's next call: the caller's own key for that provider when configuration gives them one
/// (<c>Gateway:Clients:{id}:ProviderKeys</c>) — never the shared key in its place, so a team's spend stays on its own
/// key — else from the provider's references, the first usable one (failover) or the next in turn (round-robin). A
/// shared key the vendor refused, and that re-reading did not change, is passed over for
/// <see cref="SecretsOptions.MinRefreshInterval"/>, so failover moves to the next key.
/// </summary>
internal sealed class VendorKeySource(GatewaySettingsMonitor settings, SecretCache secrets, TimeProvider time) : IVendorKeySource
{
    public ValueTask<VendorKeyLookup> GetAsync(HttpContext context, string provider, CancellationToken cancellationToken)
        => context.GetGatewayCall()?.Client is { ProviderKeys: { } own } client && own.TryGetValue(provider, out var reference)
            ? GetOwnAsync(client.Id, provider, reference, cancellationToken)
            : GetSharedAsync(provider, cancellationToken);

    private async ValueTask<VendorKeyLookup> GetOwnAsync(string client, string provider, SecretReference reference, CancellationToken cancellationToken)
    {
        var secret = await secrets.GetAsync(reference, cancellationToken);
        return secret.Value is null
            ? new VendorKeyLookup(null, $"{OwnKeySetting(client, provider)} refers to {reference}, but {secret.Error}.", Client: client)
            : new VendorKeyLookup(secret.Value, null, Client: client);
    }

    private static string OwnKeySetting(string client, string provider) => $"Gateway:Clients:{client}:ProviderKeys:{provider}";

    private readonly ConcurrentDictionary<string, int> _turns = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<SecretReference, DateTimeOffset> _refusedUntil = new();

    private async ValueTask<VendorKeyLookup> GetSharedAsync(string provider, CancellationToken cancellationToken)
    {
        if (!settings.Current.Providers.TryGetValue(provider, out var entry))
        {
            return new VendorKeyLookup(null, $"Provider '{provider}' is not configured under Gateway:Providers.");
        }

        var keys = entry.ApiKeys;
        var start = entry.KeySelection == KeySelection.RoundRobin ? (int)((uint)_turns.AddOrUpdate(provider, 0, static (_, turn) => turn + 1) % keys.Count) : 0;
        var now = time.GetUtcNow();
        string? firstError = null;
        VendorKeyLookup? refused = null;
        for (var i = 0; i < keys.Count; i++)
        {
            var index = (start + i) % keys.Count;
            var secret = await secrets.GetAsync(keys[index], cancellationToken);
            if (secret.Value is null)
            {
                firstError ??= $"{entry.Setting} refers to {keys[index]}, but {secret.Error}.";
                continue;
            }

            if (_refusedUntil.TryGetValue(keys[index], out var until) && until > now)
            {
                refused ??= new VendorKeyLookup(secret.Value, null, index);
                continue;
            }

            return new VendorKeyLookup(secret.Value, null, index);
        }

        // Every usable key was refused recently: try again with one rather than not at all.
        return refused ?? new VendorKeyLookup(null, firstError);
    }

    public async Task<bool> RecoverAsync(string provider, VendorKeyLookup used, CancellationToken cancellationToken)
    {
        if (used.Client is not null)
        {
            // The client's own key has no other to fail over to: re-read it (shared with concurrent 401s), retry if it changed.
            var client = settings.Current.Clients.FirstOrDefault(c => c.Id == used.Client);
            return used.Value is not null && client?.ProviderKeys is { } own && own.TryGetValue(provider, out var clientsOwn)
                && await secrets.RefreshIfStaleAsync(clientsOwn, used.Value, cancellationToken);
        }

        if (used.Value is null || !settings.Current.Providers.TryGetValue(provider, out var entry) || used.Index >= entry.ApiKeys.Count)
        {
            return false;
        }

        var reference = entry.ApiKeys[used.Index];
        if (await secrets.RefreshIfStaleAsync(reference, used.Value, cancellationToken))
        {
            _refusedUntil.TryRemove(reference, out _);
            return true;
        }

        _refusedUntil[reference] = time.GetUtcNow() + settings.Current.MinRefreshInterval;
        // Another key of the provider may still work (failover across an overlapping rotation).
        return entry.ApiKeys.Count > 1 && (await GetSharedAsync(provider, cancellationToken)).Index != used.Index;
    }
}
