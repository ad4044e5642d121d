using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Gateway.Secrets;

namespace Gateway.Telemetry;

/// <summary>Where access log lines go (<c>Gateway:AccessLog:Output</c>).</summary>
public enum AccessLogOutput
{
    /// <summary>
    /// JSON lines written straight to standard output from a queue, in the shape of the console's JSON log lines
    /// (Timestamp, EventId, LogLevel, Category, Message, State) without scopes: the default, a few microseconds a call.
    /// </summary>
    Stdout,

    /// <summary>
    /// Through the logging providers under <see cref="AccessLog.Category"/>, so any provider (OTLP…) can route
    /// them: costs what the providers cost (the console's JSON formatter with scopes is tens of microseconds a call).
    /// </summary>
    Logger,
}

/// <summary>
/// Writes access log lines: to the logging providers, or (the default) formatted with a <see cref="Utf8JsonWriter"/> on
/// one background task and written to standard output in batches of whole lines, each at most
/// <see cref="MaxWriteBytes"/> so a line is never torn by another writer of the same pipe. A queue that is full drops
/// lines (counted in <see cref="Dropped"/>) rather than holding calls back. Lines still queued when the process stops
/// are written before it exits.
/// </summary>
internal sealed class AccessLogWriter : IDisposable
{
    /// <summary>Lines waiting to be written before new ones are dropped.</summary>
    public const int QueueLength = 16 * 1024;

    /// <summary>The largest single write: under a pipe's atomic write size, so lines of other writers never cut into these.</summary>
    public const int MaxWriteBytes = 4096;

    /// <summary>How long a line may wait in the queue before it is written.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private static readonly EventId Access = new(1, "Access");
    private static readonly JsonWriterOptions JsonOptions = new() { SkipValidation = true };

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    /// <summary>The most texts remembered as holding no secret.</summary>
    internal const int MaxCleanTexts = 1024;

    private readonly SecretRegistry _secrets;
    private readonly Func<string, string> _redact;
    // Texts from callers or vendors (paths, model names) already found to hold no secret, against the registry's version
    // then: they repeat line after line, and checking one costs a search for every known secret. Used by the writer's
    // one task only.
    private readonly HashSet<string> _clean = new(StringComparer.Ordinal);
    private object? _cleanAgainst;
    private readonly Stream _output;
    private readonly Channel<AccessLogEntry> _queue = Channel.CreateBounded<AccessLogEntry>(
        new BoundedChannelOptions(QueueLength) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly Task _writing;
    private long _dropped;

    public AccessLogWriter(ILoggerFactory loggers, SecretRegistry secrets, TimeProvider time, AccessLogStream? output = null)
    {
        _time = time;
        _secrets = secrets;
        _redact = Redact;
        _logger = loggers.CreateLogger(AccessLog.Category);
        _output = output?.Stream ?? Console.OpenStandardOutput();
        _writing = Task.Run(WriteLinesAsync);
    }

    /// <summary>Lines not written because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Whether lines are written at all (<c>Logging:LogLevel:Gateway.AccessLog</c> silences them).</summary>
    public bool Enabled => _logger.IsEnabled(LogLevel.Information);

    public void Write(AccessLogEntry entry, AccessLogOutput output)
    {
        if (output == AccessLogOutput.Logger)
        {
            _logger.Log(LogLevel.Information, Access, entry, null, static (e, _) => e.ToString());
        }
        else if (!_queue.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Writes what is queued and stops taking lines; waits at most <paramref name="timeout"/>.</summary>
    public void Flush(TimeSpan timeout)
    {
        _queue.Writer.TryComplete();
        _writing.Wait(timeout);
    }

    public void Dispose() => Flush(TimeSpan.FromSeconds(2));

    // Every FlushInterval, whatever is queued is formatted and written: a handful of writes a second however busy the
    // gateway is, rather than a wake-up and a write for each call.
    private async Task WriteLinesAsync()
    {
        var batch = new ArrayBufferWriter<byte>(MaxWriteBytes * 2);
        var line = new ArrayBufferWriter<byte>(1024);
        using var json = new Utf8JsonWriter(line, JsonOptions);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var entry))
            {
                line.ResetWrittenCount();
                json.Reset(line);
                try
                {
                    Format(json, line, entry);
                }
                catch (Exception failure) when (failure is not OutOfMemoryException)
                {
                    _logger.LogWarning("An access log line could not be formatted ({Error}).", failure.GetType().Name);
                    continue;
                }

                if (batch.WrittenCount + line.WrittenCount > MaxWriteBytes)
                {
                    Emit(batch);
                }

                batch.Write(line.WrittenSpan);
            }

            Emit(batch);
            if (!reader.Completion.IsCompleted)
            {
                await Task.WhenAny(Task.Delay(FlushInterval, _time), reader.Completion);
            }
        }
    }

    private void Emit(ArrayBufferWriter<byte> batch)
    {
        if (batch.WrittenCount == 0)
        {
            return;
        }

        try
        {
            _output.Write(batch.WrittenSpan);
            _output.Flush();
        }
        catch (IOException)
        {
            // Standard output closed (the collector went away): the lines are lost, the calls are not.
            Interlocked.Add(ref _dropped, 1);
        }

        batch.ResetWrittenCount();
    }

    private string Redact(string text)
    {
        var version = _secrets.Version;
        if (!ReferenceEquals(version, _cleanAgainst))
        {
            // A secret added since: every text is checked again.
            _clean.Clear();
            _cleanAgainst = version;
        }

        if (_clean.Contains(text))
        {
            return text;
        }

        var redacted = _secrets.Redact(text);
        if (ReferenceEquals(redacted, text) && _clean.Count < MaxCleanTexts)
        {
            _clean.Add(text);
        }

        return redacted;
    }

    // The console's JSON log line shape, so log pipelines parse access lines like every other line.
    private void Format(Utf8JsonWriter json, ArrayBufferWriter<byte> line, AccessLogEntry entry)
    {
        Span<char> text = stackalloc char[AccessLog.MaxPathLength + 64];
        json.WriteStartObject();
        entry.Timestamp.UtcDateTime.TryFormat(text, out var length, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        json.WriteString(TimestampName, text[..length]);
        json.WriteNumber(EventIdName, Access.Id);
        json.WriteString(LogLevelName, InformationValue);
        json.WriteString(CategoryName, CategoryValue);
        // State first into its own object, so the message can use the path as it was written (redacted).
        json.WriteStartObject(StateName);
        var path = entry.WriteFields(json, _redact);
        json.WriteString(OriginalFormatName, FormatValue);
        json.WriteEndObject();
        json.WriteString(MessageName, entry.Message(text, path));
        json.WriteEndObject();
        json.Flush();
        line.Write("\n"u8);
    }

    private static readonly JsonEncodedText TimestampName = JsonEncodedText.Encode("Timestamp");
    private static readonly JsonEncodedText EventIdName = JsonEncodedText.Encode("EventId");
    private static readonly JsonEncodedText LogLevelName = JsonEncodedText.Encode("LogLevel");
    private static readonly JsonEncodedText InformationValue = JsonEncodedText.Encode("Information");
    private static readonly JsonEncodedText CategoryName = JsonEncodedText.Encode("Category");
    private static readonly JsonEncodedText CategoryValue = JsonEncodedText.Encode(AccessLog.Category);
    private static readonly JsonEncodedText MessageName = JsonEncodedText.Encode("Message");
    private static readonly JsonEncodedText StateName = JsonEncodedText.Encode("State");
    private static readonly JsonEncodedText OriginalFormatName = JsonEncodedText.Encode("{OriginalFormat}");
    private static readonly JsonEncodedText FormatValue = JsonEncodedText.Encode(AccessLogEntry.Format);
}

/// <summary><c>Gateway:AccessLog</c> as written.</summary>
public sealed class AccessLogOptions
{
    /// <summary><c>stdout</c> (default) or <c>logger</c>.</summary>
    public string? Output { get; init; }
}

/// <summary>Where <see cref="AccessLogOutput.Stdout"/> lines go instead of standard output (tests register one).</summary>
internal sealed record AccessLogStream(Stream Stream);
