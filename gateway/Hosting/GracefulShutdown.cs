namespace Gateway.Hosting;

/// <summary>When the gateway is told to stop (<c>Gateway:Shutdown</c>, read at start).</summary>
public sealed record ShutdownOptions
{
    /// <summary>
    /// How long the gateway keeps accepting new connections after SIGTERM while readiness already answers 503, so load
    /// balancers and Kubernetes endpoints stop sending it calls first. Default 5 s.
    /// </summary>
    public TimeSpan RefuseAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long calls and streams in flight may still run once new connections are refused. Default 5 minutes.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The host's shutdown timeout: both phases, and a moment for streams that outlived the drain to send their last
    /// event before the server closes what is left.
    /// </summary>
    public TimeSpan Total => RefuseAfter + Drain + TimeSpan.FromSeconds(2);

    public static void Check(ShutdownOptions options, List<string> errors)
    {
        if (options.RefuseAfter < TimeSpan.Zero || options.Drain <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:Shutdown:RefuseAfter must not be negative and :Drain must be positive (were {options.RefuseAfter} and {options.Drain}).");
        }
    }
}

/// <summary>
/// Graceful stop on SIGTERM: readiness answers 503 at once (<see cref="Draining"/>), new connections are still accepted
/// for <see cref="ShutdownOptions.RefuseAfter"/> (the endpoints update meanwhile), then the server refuses new
/// connections and lets the calls and streams in flight finish within <see cref="ShutdownOptions.Drain"/> before the
/// process exits 0. It runs before the web server is stopped: lifecycle services stop first.
/// </summary>
internal sealed partial class GracefulShutdown(ShutdownOptions options, TimeProvider time, ILogger<GracefulShutdown> logger)
    : IHostedLifecycleService, Gateway.Transforms.Contracts.IGatewayDrain, IDisposable
{
    private readonly CancellationTokenSource _drained = new(Timeout.InfiniteTimeSpan, time);
    private volatile bool _draining;

    /// <summary>Cancelled when the drain time is over: normalized streams still open end with a gateway_stopping event.</summary>
    public CancellationToken Deadline => _drained.Token;

    /// <summary>The gateway is stopping: not ready for new calls.</summary>
    public bool Draining => _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        Log.Stopping(logger, options.RefuseAfter, options.Drain);
        try
        {
            await Task.Delay(options.RefuseAfter, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's own timeout: stop at once.
        }

        _drained.CancelAfter(options.Drain);
    }

    public void Dispose() => _drained.Dispose();

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Stopping: readiness is 503 now, new connections are refused in {RefuseAfter}, calls in flight then have {Drain} to finish")]
        public static partial void Stopping(ILogger logger, TimeSpan refuseAfter, TimeSpan drain);
    }
}
