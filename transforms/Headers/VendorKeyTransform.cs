using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Headers;

/// <summary>
/// Injects the vendor key of the provider that serves the route's cluster (the caller's own key for that provider when
/// configuration gives them one), in the vendor's own scheme, and the headers configuration sets for that provider
/// (organization, project).
/// A key that cannot be resolved stops the request with <c>vendor_key_missing</c>: the vendor is never called without one.
/// </summary>
internal sealed class VendorKeyTransform(IProviderDirectory providers, IVendorKeySource keys, IProviderRequestHeaders configured) : RequestTransform
{
    public override async ValueTask ApplyAsync(RequestTransformContext context)
    {
        var httpContext = context.HttpContext;
        var cluster = httpContext.GetReverseProxyFeature().Cluster.Config;
        var binding = providers.Find(cluster.ClusterId, cluster.Metadata);
        if (binding is null)
        {
            Fail(httpContext,
                $"Cluster '{cluster.ClusterId}' is not bound to a provider: add Gateway:Providers:{cluster.ClusterId} or set the cluster's Metadata '{IProviderDirectory.ProviderMetadataKey}'.");
            return;
        }

        var key = await keys.GetAsync(httpContext, binding.Name, httpContext.RequestAborted);
        if (string.IsNullOrEmpty(key.Value))
        {
            Fail(httpContext, key.Problem ?? $"No key for provider '{binding.Name}'.");
            return;
        }

        binding.Vendor.ApplyCredentials(context.ProxyRequest.Headers, key.Value);
        foreach (var (name, value) in configured.For(httpContext, binding.Name))
        {
            // Configuration wins over anything a caller sent under the same name.
            RemoveHeader(context, name);
            AddHeader(context, name, value);
        }
        httpContext.Features.Set(new VendorKeyFeature(binding.Name, binding.Vendor, key));
    }

    private static void Fail(HttpContext context, string detail)
    {
        var error = new GatewayError(ErrorCodes.VendorKeyMissing, detail);
        context.Features.Set<IGatewayErrorFeature>(new GatewayErrorFeature(error));
        // A status other than 200 tells YARP's forwarder that a transform answered: nothing is sent to the vendor.
        context.Response.StatusCode = error.Code.Status;
    }
}
