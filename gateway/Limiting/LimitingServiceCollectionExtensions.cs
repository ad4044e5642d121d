using StackExchange.Redis;

namespace Gateway.Limiting;

/// <summary>Registers the limiter: on Redis when <c>ConnectionStrings:Redis</c> is set, else in process.</summary>
internal static class LimitingServiceCollectionExtensions
{
    public const string RedisConnectionName = "Redis";

    public static IServiceCollection AddGatewayLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<LimiterMetrics>();
        services.AddSingleton<Admission>();
        var connection = configuration.GetConnectionString(RedisConnectionName);
        if (string.IsNullOrWhiteSpace(connection))
        {
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<RateLimiter>(sp));
            return services;
        }

        var options = ConfigurationOptions.Parse(connection);
        // Start and keep running without Redis: decisions fall back per policy, and the multiplexer reconnects by itself.
        options.AbortOnConnectFail = false;
        // A command issued while disconnected fails at once instead of queueing past the decision's time budget.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy ??= new LinearRetry(1000);
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<RateLimiter>(sp, sp.GetRequiredService<IConnectionMultiplexer>()));
        return services;
    }
}
