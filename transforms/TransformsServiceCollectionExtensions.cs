using Gateway.Transforms.Headers;
using Gateway.Transforms.Passthrough;
using Gateway.Transforms.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Transforms;

/// <summary>Registers the gateway's YARP transforms.</summary>
public static class TransformsServiceCollectionExtensions
{
    /// <summary>
    /// Adds credential stripping and vendor key injection to every proxied route, and the internal-schema translation
    /// to task routes.
    /// </summary>
    public static IReverseProxyBuilder AddVendorTransforms(this IReverseProxyBuilder builder)
    {
        builder.Services.AddSingleton<ITransformProvider, VendorHeadersTransformProvider>();
        builder.Services.AddSingleton<ITransformProvider, TaskTransformProvider>();
        builder.Services.AddSingleton<ITransformProvider, PassthroughTransformProvider>();
        return builder;
    }
}
