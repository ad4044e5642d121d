using System.Collections.Concurrent;
using Microsoft.Extensions.FileProviders;

namespace Gateway.Hosting;

/// <summary>
/// The config/ files as one set: the folder they are read from, and which of them could not be used at their last
/// change. A file that does not parse (or vanished) is a refused change: its last good content keeps serving, the
/// error is logged and shown by readiness until the file reads again.
/// </summary>
internal sealed partial class ConfigFileSet(PhysicalFileProvider files) : IDisposable
{
    private readonly ConcurrentDictionary<string, string> _refused = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private ConfigStatus? _status;
    private ILogger? _logger;

    /// <summary>The link a Kubernetes ConfigMap volume swaps to update every file at once.</summary>
    public const string KubeletDataLink = "..data";

    public IFileProvider Files => files;

    /// <summary>The folder's full path.</summary>
    public string Directory => files.Root;

    /// <summary>From now on, refusals are logged and shown by <paramref name="status"/>; refusals so far are reported at once.</summary>
    public void ReportTo(ConfigStatus status, ILogger logger)
    {
        lock (_gate)
        {
            (_status, _logger) = (status, logger);
            foreach (var (file, error) in _refused)
            {
                Report(file, error);
            }
        }
    }

    public void Refused(string file, string error)
    {
        lock (_gate)
        {
            _refused[file] = error;
            Report(file, error);
        }
    }

    public void Accepted(string file)
    {
        lock (_gate)
        {
            if (_refused.TryRemove(file, out _))
            {
                _status?.Applied(Part(file));
            }
        }
    }

    private void Report(string file, string error)
    {
        if (_logger is not null)
        {
            Log.FileRefused(_logger, error);
        }

        _status?.Rejected(Part(file), [error]);
    }

    private static string Part(string file) => "config file " + file;

    public void Dispose() => files.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Configuration change refused, the file's last good content keeps serving: {Error}")]
        public static partial void FileRefused(ILogger logger, string error);
    }
}
