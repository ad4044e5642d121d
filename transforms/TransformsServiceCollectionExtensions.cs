using Gateway.Transforms.Headers;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Transforms;

/// <summary>Registers the gateway's YARP transforms.</summary>
public static class TransformsServiceCollectionExtensions
{
    /// <summary>Adds credential stripping and vendor key injection to every proxied route.</summary>
    public static IReverseProxyBuilder AddVendorTransforms(this IReverseProxyBuilder builder)
    {
        builder.Services.AddSingleton<ITransformProvider, VendorHeadersTransformProvider>();
        return builder;
    }
}
