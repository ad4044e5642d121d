using System.Collections.Concurrent;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>Every log entry of a gateway instance, at every level, with its state values, scopes and exception.</summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _entries = new();
    private readonly ConcurrentQueue<LogRecord> _records = new();
    private IExternalScopeProvider? _scopes;

    public IReadOnlyCollection<string> Entries => _entries;

    /// <summary>The same entries with their category, level and structured values as the logger got them.</summary>
    public IReadOnlyCollection<LogRecord> Records => _records;

    public string AllText => string.Join(Environment.NewLine, _entries);

    public bool Contains(string text) => _entries.Any(e => e.Contains(text, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            var text = new StringBuilder().Append(logLevel).Append(' ').Append(category).Append(": ").Append(message);
            var structured = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    text.Append(" | ").Append(key).Append('=').Append(value);
                    structured[key] = value;
                }
            }

            owner._scopes?.ForEachScope((scope, sb) => sb.Append(" | scope: ").Append(scope), text);
            if (exception is not null)
            {
                text.Append(" | exception: ").Append(exception);
            }

            owner._entries.Enqueue(text.ToString());
            owner._records.Enqueue(new LogRecord(category, logLevel, message, structured));
        }
    }
}

/// <summary>One captured log entry: its category, level, formatted message and structured values.</summary>
public sealed record LogRecord(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Values)
{
    public object? this[string name] => Values.TryGetValue(name, out var value) ? value : null;
}
