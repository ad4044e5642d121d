using Gateway.Transforms.Contracts;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Passthrough;
using Gateway.Transforms.Tasks;
using Gateway.Transforms.Vendors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Transforms;

/// <summary>Registers the gateway's YARP transforms.</summary>
public static class TransformsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the built-in vendors, credential stripping and vendor key injection to every proxied route, and the
    /// internal-schema translation to task routes. Another vendor is added by registering its
    /// <see cref="IVendorAdapter"/> as a service, before or after this call.
    /// </summary>
    public static IReverseProxyBuilder AddVendorTransforms(this IReverseProxyBuilder builder)
    {
        foreach (var vendor in VendorCatalog.BuiltIn)
        {
            builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IVendorAdapter), vendor.GetType()));
        }

        builder.Services.TryAddSingleton<VendorCatalog>();
        builder.Services.TryAddSingleton<CallerHeaderPolicy>();
        builder.Services.TryAddSingleton<IGatewayDrain, NoGatewayDrain>();
        builder.Services.TryAddSingleton<IPromptShape, PromptShape>();
        builder.Services.AddSingleton<ITransformProvider, VendorHeadersTransformProvider>();
        builder.Services.AddSingleton<ITransformProvider, TaskTransformProvider>();
        builder.Services.AddSingleton<ITransformProvider, PassthroughTransformProvider>();
        return builder;
    }
}
