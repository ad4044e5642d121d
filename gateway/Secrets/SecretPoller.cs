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

    /// <summary>Completed polls so far.</summary>
    public int Cycles { get; private set; }

    /// <summary>Completes when the poll under way (or the next one) has finished.</summary>
    public Task NextCycleAsync() => _cycle.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await PollAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var options = settings.Current.Secrets;
            var spread = options.PollInterval.TotalMilliseconds * options.Jitter * (2 * Random.Shared.NextDouble() - 1);
            try
            {
                await Task.Delay(options.PollInterval + TimeSpan.FromMilliseconds(spread), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await PollAsync(stoppingToken);
        }
    }

    private async Task PollAsync(CancellationToken stoppingToken)
    {
        var references = settings.Current.SecretReferences;
        await Task.WhenAll(references.Select(r => cache.RefreshAsync(r, stoppingToken)));
        Cycles++;
        Interlocked.Exchange(ref _cycle, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
