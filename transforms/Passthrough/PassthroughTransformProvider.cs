using Gateway.Transforms.Tasks;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Transforms.Passthrough;

/// <summary>
/// For every route that is not a task route: validates its passthrough configuration (path shape, allowlist, extra
/// headers) and forwards allowlisted headers and the caller's own path instead of YARP's copy-everything default.
/// </summary>
internal sealed class PassthroughTransformProvider(CallerHeaderPolicy policy, Vendors.VendorCatalog vendors) : ITransformProvider
{
    private readonly PassthroughResponseHeadersTransform _responseHeaders = new(vendors);

    public void ValidateRoute(TransformRouteValidationContext context)
    {
        foreach (var error in PassthroughRoute.Validate(context.Route, policy))
        {
            context.Errors.Add(new ArgumentException(error));
        }
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (TaskRoutes.TryGetTask(context.Route.Metadata, out _))
        {
            return;
        }

        context.CopyRequestHeaders = false;
        // First, so the key injection that follows adds to the caller's allowed headers rather than the other way round.
        context.RequestTransforms.Insert(0, new PassthroughRequestTransform());
        context.ResponseTransforms.Add(_responseHeaders);
    }
}
