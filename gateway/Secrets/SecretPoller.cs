using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>
/// Reads every referenced secret at start-up, then again every <see cref="SecretsOptions.PollInterval"/> (± jitter, so
/// replicas do not hit Vault in step), so a rotated key reaches the next request without a restart. Time comes from the
/// injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class SecretPoller(SecretCache cache, GatewaySettingsMonitor settings, TimeProvider time) : BackgroundService
{
    private TaskCompletionSource _cycle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _cycles;

    /// <summary>Completed polls so far.</summary>
    public int Cycles => Volatile.Read(ref _cycles);

    /// <summary>Completes when the poll under way (or the next one) has finished. Take it before reading <see cref="Cycles"/>.</summary>
    public Task NextCycleAsync() => Volatile.Read(ref _cycle).Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var references = settings.Current.SecretReferences;
            await Task.WhenAll(references.Select(r => cache.RefreshAsync(r, stoppingToken)));

            var options = settings.Current.Secrets;
            var spread = options.PollInterval.TotalMilliseconds * options.Jitter * (2 * Random.Shared.NextDouble() - 1);
            // The next wait is scheduled before the poll is reported done, so whoever moves the clock on after that
            // report (a test's fake clock) cannot move it past a timer that does not exist yet.
            var next = Task.Delay(options.PollInterval + TimeSpan.FromMilliseconds(spread), time, stoppingToken);
            Interlocked.Increment(ref _cycles);
            Interlocked.Exchange(ref _cycle, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            try
            {
                await next;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
