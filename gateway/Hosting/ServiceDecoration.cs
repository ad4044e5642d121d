namespace Gateway.Hosting;

/// <summary>Wraps registered services in decorators, keeping each registration's own way of creating the inner one.</summary>
internal static class ServiceDecoration
{
    /// <summary>Replaces every (non-keyed) registration of <typeparamref name="TService"/> with a singleton decorating it.</summary>
    public static IServiceCollection Decorate<TService>(this IServiceCollection services, Func<IServiceProvider, TService, TService> decorate)
        where TService : class
    {
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType != typeof(TService) || descriptor.IsKeyedService)
            {
                continue;
            }

            services[i] = ServiceDescriptor.Singleton<TService>(sp => decorate(sp, Create<TService>(sp, descriptor)));
        }

        return services;
    }

    private static TService Create<TService>(IServiceProvider services, ServiceDescriptor descriptor) => descriptor switch
    {
        { ImplementationInstance: TService instance } => instance,
        { ImplementationFactory: { } factory } => (TService)factory(services),
        _ => (TService)ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!),
    };
}
