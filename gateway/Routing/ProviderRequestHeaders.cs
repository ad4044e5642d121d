using Gateway.Hosting;
using Gateway.Transforms.Headers;

namespace Gateway.Routing;

/// <summary>The headers configuration sets per provider (<c>Gateway:Providers:{name}:Headers</c>), or per client and provider.</summary>
internal sealed class ProviderRequestHeaders(GatewaySettingsMonitor settings) : IProviderRequestHeaders
{
    public IReadOnlyList<KeyValuePair<string, string>> For(HttpContext context, string provider)
    {
        if (context.GetGatewayCall()?.Client.ProviderHeaders is { } own && own.TryGetValue(provider, out var headers))
        {
            return headers;
        }

        return settings.Current.Providers.TryGetValue(provider, out var entry) ? entry.Headers : [];
    }
}
