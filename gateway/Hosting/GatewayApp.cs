using Microsoft.Extensions.DependencyInjection.Extensions;
using Gateway.Auth;
using Microsoft.AspNetCore.DataProtection;
using Gateway.Errors;
using Gateway.Health;
using Gateway.Limiting;
using Gateway.Resilience;
using Gateway.Hosting.OpenApi;
using Gateway.Routing;
using Gateway.Secrets;
using Gateway.Telemetry;
using Gateway.Transforms;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Headers;
using Microsoft.FeatureManagement;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace Gateway.Hosting;

/// <summary>Builds the gateway application: services, middleware and endpoints.</summary>
public static class GatewayApp
{
    /// <summary>Creates the app from command-line arguments; <paramref name="configure"/> lets tests add to the builder.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var app = Build(args, configure);
        app.UseGateway();
        return app;
    }

    /// <summary>The app with its services and settings checked, before its pipeline and routes are mapped (which loads them).</summary>
    internal static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        var configFiles = builder.AddGatewayConfigFiles();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        var secrets = new SecretRegistry();
        builder.Services.AddSingleton(secrets);
        builder.Services.AddGateway(builder.Configuration);
        configure?.Invoke(builder);
        // Last, so providers added by the host or by tests are wrapped too.
        RedactingLoggerProvider.WrapAll(builder.Services, secrets);

        var app = builder.Build();
        // The configuration does not own the file provider it was given: release its file watch (an inotify instance) with the app.
        app.Lifetime.ApplicationStopped.Register(configFiles.Dispose);
        configFiles.ReportTo(app.Services.GetRequiredService<ConfigStatus>(), app.Services.GetRequiredService<ILogger<ConfigFileSet>>());
        // Fail start-up on invalid settings, with every error listed, rather than on the first request.
        app.Services.GetRequiredService<GatewaySettingsMonitor>();
        return app;
    }

    private static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        // Graceful stop: read at start, since the host's shutdown timeout is fixed then.
        ShutdownOptions shutdown;
        try
        {
            shutdown = configuration.GetSection($"{GatewayOptions.Section}:Shutdown").Get<ShutdownOptions>() ?? new ShutdownOptions();
        }
        catch (InvalidOperationException)
        {
            // A value of the wrong type: the settings check lists it with every other error and stops the start.
            shutdown = new ShutdownOptions();
        }

        services.AddSingleton(shutdown);
        services.Configure<HostOptions>(host => host.ShutdownTimeout = shutdown.Total);
        services.AddSingleton<GracefulShutdown>();
        services.AddSingleton<IGatewayDrain>(sp => sp.GetRequiredService<GracefulShutdown>());
        services.AddHostedService(sp => sp.GetRequiredService<GracefulShutdown>());
        // YARP's session affinity brings in Data Protection; the gateway uses no affinity, so keys need not persist.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddSingleton<ConfigStatus>();
        services.AddSingleton<GatewaySettingsMonitor>();
        services.AddSingleton<EscalationStore>();
        services.AddSingleton<ProblemWriter>();
        services.AddSingleton<IProblemResponder>(sp => sp.GetRequiredService<ProblemWriter>());
        services.AddSingleton<ClientKeyTable>();
        services.AddSingleton<ClientKeyAuthenticator>();
        services.AddSingleton<ISecretSource, EnvironmentSecretSource>();
        services.AddSingleton<ISecretSource, FileSecretSource>();
        services.AddSingleton<ISecretSource, VaultSecretSource>();
        services.AddSingleton<ISecretSource, AwsSecretsManagerSource>();
        services.TryAddSingleton<AwsEnvironment>();
        services.AddSingleton<AwsCredentialChain>();
        services.AddSingleton<VaultClient>();
        services.AddSingleton<SecretMetrics>();
        services.AddSingleton<SecretCache>();
        services.AddSingleton<ISecretStore>(sp => sp.GetRequiredService<SecretCache>());
        services.AddSingleton<SecretPoller>();
        services.AddHostedService(sp => sp.GetRequiredService<SecretPoller>());
        services.AddHostedService<FileSecretWatcher>();
        services.AddSingleton<IVendorKeySource, VendorKeySource>();
        services.AddSingleton<IProviderDirectory, ProviderDirectory>();
        services.AddSingleton<IProviderRequestHeaders, ProviderRequestHeaders>();
        services.AddSingleton<IConfigChangeListener, ProxyConfigReporter>();

        services.AddReverseProxy()
            .LoadFromConfig(configuration.GetSection("ReverseProxy"))
            .AddConfigFilter<ClusterDefaultsFilter>()
            .AddVendorTransforms()
            .AddVendorTraceparent(configuration)
            .AddVendorHttpClient();
        // A change that would leave no route is refused unless Gateway:Forwarding:AllowNoRoutes says otherwise.
        services.Decorate<IProxyConfigProvider>((sp, inner) => ActivatorUtilities.CreateInstance<RouteGuardConfigProvider>(sp, inner));

        services.AddGatewayLimiting(configuration);
        services.AddSingleton<GenAiMetrics>();
        services.AddSingleton<GenAiCallTelemetry>();
        services.AddSingleton<ForwarderProblems>();
        services.AddSingleton(sp => new AccessLogWriter(sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<SecretRegistry>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<AccessLogStream>()));
        services.AddSingleton<TrafficMetrics>();
        services.AddSingleton<AccessLog>();
        services.AddSingleton<UnhandledErrors>();
        services.AddSingleton<PromptLogWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<PromptLogWriter>());
        services.AddSingleton<ResilienceMetrics>();
        services.AddSingleton<VendorKeyRecovery>();
        services.AddSingleton<ProviderPipelines>();
        services.AddSingleton<ICallFallback, TaskCallFallback>();
        // Feature flags from the FeatureManagement section, reloaded with the configuration files.
        services.AddFeatureManagement();
        services.AddSingleton<ProviderSwitches>();
        services.AddGatewayTracing(configuration);
        services.AddGatewayHealth();
        return services;
    }

    // The pipeline, in order; each step says why it sits where it does.
    private static void UseGateway(this WebApplication app)
    {
        // No ASP.NET Core authorization middleware: YARP registers authorization services (for routes' AuthorizationPolicy,
        // which the route guard refuses: callers are authenticated by client key), and a WebApplication would then run it
        // on every request — an async frame and an HttpContext.Items dictionary per call (~1.5 µs, ~390 B in bench/) for
        // a check nothing uses. The host adds it unless the app says it is in place; this is the key UseAuthorization
        // sets (RequestPipelineTests fails if the middleware comes back).
        ((IApplicationBuilder)app).Properties["__AuthorizationMiddlewareSet"] = true;
        // First: the request id (= trace id) exists before anything can fail, so every answer and log line carries it.
        app.UseMiddleware<CorrelationMiddleware>();
        // Then the access log, around everything else (one line for every answer, a 500 and a refusal included), and
        // inside it the guard: whatever throws below is answered as a problem with that request id, never a bare 500.
        app.UseMiddleware<RequestFrameMiddleware>();
        // Before routing: methods and headers no route may see (TRACE, CONNECT, malformed values) are refused for all.
        app.UseMiddleware<RequestGuardMiddleware>();

        // Operations endpoints answer without a client key and never reach a vendor.
        app.MapGatewayHealth();
        app.MapOpenApiDocument();
        app.MapGatewayMetrics();
        app.MapGatewayAdmin();
        // The OpenAI-compatible models list: a client key, no vendor call.
        app.MapModelsList();
        app.MapReverseProxy(proxy =>
        {
            // Who is calling, before anything about the call is read: 401/403 cost nothing and count nothing.
            proxy.UseMiddleware<CallerAuthenticationMiddleware>();
            // Passthrough calls resolved (provider in scope, allowlisted path, call record, usage tap) before any body is read.
            proxy.UseMiddleware<PassthroughPolicyMiddleware>();
            // The body is bounded and buffered (413 here, once) so it can be read for the model and replayed after a 401.
            proxy.UseMiddleware<RequestBodyLimitMiddleware>();
            // Normalized calls validated (every fault), resolved and planned; passthrough model read from the buffered body.
            proxy.UseMiddleware<TaskRequestMiddleware>();
            // Prompt logs (when asked for) read the body kept by the steps above, after the response has ended.
            proxy.UseMiddleware<PromptLogMiddleware>();
            // The vendor call's frame: limits need the resolved call (model, estimate) and settle after everything inside
            // has ended; only admitted calls are measured (duration and usage around the forwarding alone); forwarding
            // errors become problems inside both, so both see the same failure.
            proxy.UseMiddleware<VendorCallMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            // YARP's passive health step awaits every call to look at its outcome afterwards (an async frame, ~130 B a
            // call) and records nothing unless the call's cluster enables passive health checks: it runs while a cluster
            // of the current configuration does (a call decides as it passes; a fallback may move it to another cluster).
            var sources = app.Services.GetServices<IProxyConfigProvider>().ToArray();
            var guarded = sources.OfType<RouteGuardConfigProvider>().ToArray();
            proxy.Use(next =>
            {
                var checkedCalls = proxy.New();
                checkedCalls.UseMiddleware<PassiveHealthCheckMiddleware>();
                checkedCalls.Run(next);
                var passive = checkedCalls.Build();
                // A configuration source the guard does not see could enable them at any time: then the step always runs.
                return guarded.Length != sources.Length ? passive
                    : context => Array.Exists(guarded, g => g.PassiveHealthChecks) ? passive(context) : next(context);
            });
            // Innermost, around the forwarder itself, inside everything that counts or measures the call (one admission,
            // one duration for all its attempts): the resilience pipeline — a refused key re-read and used once more,
            // retries, the circuit breaker, fallback, the first-byte deadline.
            proxy.UseMiddleware<VendorRetryMiddleware>();
        });

        var problems = app.Services.GetRequiredService<ProblemWriter>();
        app.MapFallback(context => problems.WriteAsync(context, ErrorCodes.NotFound,
            "No gateway route matches this path; see /openapi/v1.json and the routes in config/."));
    }
}
