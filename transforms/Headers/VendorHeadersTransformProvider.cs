using Gateway.Transforms.Vendors;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Transforms.Headers;

/// <summary>
/// Applies vendor key injection to every route, so no route in config/ can forget it, and turns off YARP's default
/// X-Forwarded-* headers (vendors must not learn internal addresses). Caller headers are not copied at all on task
/// routes and only from an allowlist on passthrough routes, so no caller credential can reach a vendor.
/// </summary>
internal sealed class VendorHeadersTransformProvider(IProviderDirectory providers, IVendorKeySource keys, IProviderRequestHeaders configured, TimeProvider time) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
        var cluster = context.Cluster;
        if (providers.Find(cluster.ClusterId, cluster.Metadata) is null)
        {
            context.Errors.Add(new InvalidOperationException(
                $"Cluster '{cluster.ClusterId}' is not bound to a provider: add Gateway:Providers:{cluster.ClusterId} or set the cluster's Metadata '{IProviderDirectory.ProviderMetadataKey}' to a configured provider."));
        }
    }

    public void Apply(TransformBuilderContext context)
    {
        context.UseDefaultForwarders = false;
        context.RequestTransforms.Add(new VendorKeyTransform(providers, keys, configured));
        // First of the response transforms, so a task route's translation never sees a 401 the host will retry.
        context.ResponseTransforms.Insert(0, new VendorAuthFailureTransform());
        // Likewise a throttled or failing answer the host will try again: held back before anything translates it.
        context.ResponseTransforms.Insert(1, new Resilience.VendorRetryTransform(time));
    }
}
