using Gateway.Hosting;
using Gateway.Secrets;

namespace Gateway.Telemetry;

/// <summary>
/// Wraps every logging provider so that no entry, at any level, carries a resolved secret or a credential header:
/// the message, each structured value and the exception text are scrubbed by the <see cref="SecretRegistry"/>.
/// </summary>
internal sealed class RedactingLoggerProvider(ILoggerProvider inner, SecretRegistry secrets) : ILoggerProvider, ISupportExternalScope
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), secrets);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (inner is ISupportExternalScope scoped)
        {
            scoped.SetScopeProvider(scopeProvider);
        }
    }

    public void Dispose() => inner.Dispose();

    /// <summary>Replaces each registered <see cref="ILoggerProvider"/> with a redacting wrapper around it.</summary>
    public static void WrapAll(IServiceCollection services, SecretRegistry secrets)
        => services.Decorate<ILoggerProvider>((_, inner) => new RedactingLoggerProvider(inner, secrets));

    private sealed class RedactingLogger(ILogger inner, SecretRegistry secrets) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            var leaks = secrets.Leaks(message) || (exception is not null && secrets.Leaks(exception.ToString()));
            if (!leaks && state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (_, value) in values)
                {
                    if (value is not null && secrets.Leaks(value.ToString() ?? ""))
                    {
                        leaks = true;
                        break;
                    }
                }
            }

            if (!leaks)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            var redacted = new List<KeyValuePair<string, object?>>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    redacted.Add(new(key, key == "{OriginalFormat}" || value is null ? value : secrets.Redact(value.ToString() ?? "")));
                }
            }

            var safeException = exception is null ? null : new RedactedException(secrets.Redact(exception.ToString()));
            inner.Log(logLevel, eventId, new RedactedState(secrets.Redact(message), redacted), safeException, static (s, _) => s.Message);
        }
    }

    private sealed class RedactedState(string message, IReadOnlyList<KeyValuePair<string, object?>> values) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message { get; } = message;

        public int Count => values.Count;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;
    }

    /// <summary>Stands in for an exception whose text held a secret.</summary>
    private sealed class RedactedException(string text) : Exception(text)
    {
        public override string ToString() => Message;
    }
}
