using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>
/// Watches the folders of <c>file:</c> references, so a rewritten file — or a Kubernetes Secret, Vault Agent or CSI
/// mount swapping its <c>..data</c> link — is read again at once rather than at the next poll. The poller still reads
/// every file on its interval, in case an event is missed (some volume types raise none).
/// </summary>
internal sealed partial class FileSecretWatcher(SecretCache cache, GatewaySettingsMonitor settings, ILogger<FileSecretWatcher> logger) : IHostedService, IDisposable
{
    private readonly List<FileSystemWatcher> _watchers = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var byFolder = settings.Current.SecretReferences.OfType<FileSecretReference>()
            .GroupBy(r => Path.GetDirectoryName(Path.GetFullPath(r.Path)) ?? "/");
        foreach (var folder in byFolder)
        {
            if (!Directory.Exists(folder.Key))
            {
                continue;
            }

            var references = folder.ToArray();
            var watcher = new FileSystemWatcher(folder.Key)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            FileSystemEventHandler changed = (_, _) => Refresh(references);
            watcher.Changed += changed;
            watcher.Created += changed;
            watcher.Deleted += changed;
            watcher.Renamed += (_, _) => Refresh(references);
            watcher.Error += (_, e) => Log.WatchFailed(logger, folder.Key, e.GetException().Message);
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }

        return Task.CompletedTask;
    }

    private void Refresh(FileSecretReference[] references)
    {
        foreach (var reference in references)
        {
            // Fire and forget: the cache shares a read already under way and logs its own failures.
            _ = RefreshAsync(reference);
        }
    }

    private async Task RefreshAsync(FileSecretReference reference)
    {
        try
        {
            await cache.RefreshAfterChangeAsync(reference, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            Log.RefreshFailed(logger, reference.Text, ex.GetType().Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _watchers.Clear();
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Warning, "Watching {Folder} for secret files failed ({Error}); rotations there arrive with the next poll")]
        public static partial void WatchFailed(ILogger logger, string folder, string error);

        [LoggerMessage(1, LogLevel.Debug, "Refreshing {Reference} after a file event failed ({Exception}); the poller will retry")]
        public static partial void RefreshFailed(ILogger logger, string reference, string exception);
    }
}
