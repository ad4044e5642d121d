using Gateway.Secrets;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Telemetry;

/// <summary>
/// OpenTelemetry for the gateway. Traces: W3C trace context on every request and vendor call; spans are recorded and
/// exported over OTLP only when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (recording spans nobody exports
/// cost a third of the proxy's throughput in bench/). Metrics: ASP.NET Core, HttpClient, runtime and the gateway's own
/// meters, scraped by Prometheus at <c>/metrics</c> and pushed over OTLP when configured.
/// </summary>
/// <summary>Marks an operations endpoint (health probes, the scrape, the OpenAPI document): not traffic, so no access line or count.</summary>
internal sealed class OperationsEndpoint
{
    public static readonly OperationsEndpoint Instance = new();

    private OperationsEndpoint()
    {
    }
}

internal static class TracingServiceCollectionExtensions
{
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string MetricsPath = "/metrics";
    public const string DefaultServiceName = "ai-gateway";

    /// <summary>Framework instruments not exported: each is recorded once or more on every call.</summary>
    public static readonly string[] PerCallInstrumentsDropped =
    [
        "http.server.active_requests", "http.client.active_requests", "http.client.request.time_in_queue",
        "aspnetcore.routing.match_attempts", "aspnetcore.memory_pool.rented", "aspnetcore.memory_pool.allocated",
        "aspnetcore.memory_pool.evicted", "aspnetcore.memory_pool.pooled",
        // Moves a connection between idle and active twice a call; gateway.vendor.connections counts them as they open and close.
        "http.client.open_connections",
        // An async step and seven tags on every vendor call; gateway.vendor.attempt.duration measures the same span per attempt.
        "http.client.request.duration",
    ];

    public static IServiceCollection AddGatewayTracing(this IServiceCollection services, IConfiguration configuration)
    {
        var export = Exported(configuration);
        services.AddOpenTelemetry()
            // service.name: OTEL_SERVICE_NAME when set (and OTEL_RESOURCE_ATTRIBUTES, read by the SDK), else ai-gateway.
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"])
                    && configuration["OTEL_RESOURCE_ATTRIBUTES"]?.Contains("service.name=", StringComparison.Ordinal) != true)
                {
                    resource.AddService(DefaultServiceName, serviceVersion: typeof(TracingServiceCollectionExtensions).Assembly.GetName().Version?.ToString());
                }
            })
            .WithTracing(tracing =>
            {
                tracing
                    .SetSampler(export ? new ParentBasedSampler(new AlwaysOnSampler()) : new AlwaysOffSampler())
                    .AddProcessor(sp => new RedactingActivityProcessor(sp.GetRequiredService<SecretRegistry>()));
                if (export)
                {
                    // The spans are listened to only when they go somewhere: listening costs every call its diagnostic
                    // events and sampling (~3 µs of CPU in paired bench rounds). Without a listener the trace context
                    // still flows: ASP.NET Core makes each request's Activity (the caller's trace id), and the vendor call
                    // carries traceparent from it (AddVendorTraceparent).
                    tracing.AddSource(GenAiTracing.SourceName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddOtlpExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(SecretMetrics.MeterName, GenAiMetrics.MeterName, TrafficMetrics.MeterName, Gateway.Hosting.ConfigStatus.MeterName, Gateway.Limiting.LimiterMetrics.MeterName, Gateway.Resilience.ResilienceMetrics.MeterName, Gateway.Auth.ClientKeyTable.MeterName)
                    // Prometheus reserves a _count suffix for histograms and summaries (promtool flags these three gauges).
                    .AddView("dotnet.assembly.count", "dotnet.assemblies.loaded")
                    .AddView("dotnet.process.cpu.count", "dotnet.process.cpus")
                    .AddView("dotnet.timer.count", "dotnet.timers.active");
                // Instruments recorded several times per call whose answer the ones kept already give (request counts
                // and durations by route and status, open connections): each recording costs a tag lookup on the hot path.
                foreach (var dropped in PerCallInstrumentsDropped)
                {
                    metrics.AddView(dropped, MetricStreamConfiguration.Drop);
                }

                metrics
                    .AddPrometheusExporter();
                if (export)
                {
                    metrics.AddOtlpExporter();
                }
            });
        // The ASP.NET Core instrumentation's request step that gives a 5xx answer its error.type on the server duration
        // (ASP.NET Core before 11 sets it only for an exception) costs every call an async step of its own: the request's
        // frame does the same in the frame it already has (ServerErrorType).
        ServerErrorType.RemoveInstrumentationFilter(services);
        return services;
    }

    /// <summary>
    /// Vendor calls carry traceparent, never the caller's tracestate or baggage. When spans are exported, HttpClient's
    /// own activity for the vendor call (the vendor-request span) writes it, through <see cref="TraceparentOnlyPropagator"/>
    /// (<see cref="VendorPropagator"/>). Otherwise HttpClient makes no activity per vendor call (no propagator: its
    /// diagnostics step is left out) — that span was recorded by nobody, yet its tags, URL strings and ExecutionContext
    /// changes cost every call ~1 KB of allocations — and a request transform writes traceparent from the request's own
    /// activity.
    /// </summary>
    public static IReverseProxyBuilder AddVendorTraceparent(this IReverseProxyBuilder builder, IConfiguration configuration)
        => Exported(configuration) ? builder : builder.AddTransforms(context => context.AddRequestTransform(TraceparentOnlyPropagator.WriteAsync));

    /// <summary>The propagator of the vendor calls' handler: none unless spans are exported (<see cref="AddVendorTraceparent"/>).</summary>
    public static System.Diagnostics.DistributedContextPropagator? VendorPropagator(IConfiguration configuration)
        => Exported(configuration) ? TraceparentOnlyPropagator.Instance : null;

    private static bool Exported(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[OtlpEndpointSetting]);

    /// <summary>Serves the Prometheus scrape endpoint (no client key: expose it only inside the cluster).</summary>
    public static void MapGatewayMetrics(this IEndpointRouteBuilder endpoints)
        => endpoints.MapPrometheusScrapingEndpoint(MetricsPath).WithMetadata(OperationsEndpoint.Instance);
}
