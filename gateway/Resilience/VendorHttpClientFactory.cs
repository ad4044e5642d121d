using System.Diagnostics;
using Gateway.Telemetry;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Resilience;

/// <summary>
/// YARP's client factory for the vendor calls, with the gateway's handler settings on top of the cluster's: the trace
/// context propagator (<see cref="TracingServiceCollectionExtensions.VendorPropagator"/>) and connections counted as
/// they open and close (<see cref="VendorConnections"/>).
/// </summary>
internal sealed class VendorHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger, VendorConnections connections, IConfiguration configuration)
    : ForwarderHttpClientFactory(logger)
{
    private readonly DistributedContextPropagator? _propagator = TracingServiceCollectionExtensions.VendorPropagator(configuration);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ActivityHeadersPropagator = _propagator;
        handler.ConnectCallback = connections.ConnectAsync;
    }
}

internal static class VendorHttpClientExtensions
{
    /// <summary>Vendor calls go through <see cref="VendorHttpClientFactory"/>.</summary>
    public static IReverseProxyBuilder AddVendorHttpClient(this IReverseProxyBuilder builder)
    {
        builder.Services.AddSingleton<VendorConnections>();
        builder.Services.AddSingleton<IForwarderHttpClientFactory, VendorHttpClientFactory>();
        return builder;
    }
}
