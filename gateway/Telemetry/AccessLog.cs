using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Text.Json;
using System.Globalization;
using Gateway.Hosting;
using Gateway.Limiting;
using Gateway.Resilience;
using Gateway.Transforms.Contracts;
using Yarp.ReverseProxy.Model;

namespace Gateway.Telemetry;

/// <summary>
/// One structured line per request, written once the response has ended (streams included), under its own category
/// <see cref="Category"/> so it can be routed or silenced (<c>Logging:LogLevel:Gateway.AccessLog</c>): who called which
/// route, which provider and model served it, how it ended, how long it took and to its first byte, the tokens and
/// cost the vendor's usage gives, the attempts, a fallback, and what the limiter decided and left. Nothing of the
/// request or response body is in it. The same entry feeds the traffic metrics (<see cref="TrafficMetrics"/>), which
/// are recorded when the line is silenced too. Kept by the request's frame (<see cref="RequestFrameMiddleware"/>):
/// <see cref="Begin"/> first, <see cref="End"/> after everything else, a 500 and a refusal included.
/// </summary>
internal sealed class AccessLog(AccessLogWriter writer, TrafficMetrics metrics, GatewaySettingsMonitor settings, TimeProvider time, ILogger<AccessLog> logger)
{
    public const string Category = "Gateway.AccessLog";

    /// <summary>The longest request path written (the rest is cut).</summary>
    public const int MaxPathLength = 256;

    private static readonly Func<object, Task> Started = static state =>
    {
        ((AccessLogEntry)state).FirstByte();
        return Task.CompletedTask;
    };

    /// <summary>The request's entry, or null when nothing is kept of it (line and metrics off, or an operations endpoint).</summary>
    public AccessLogEntry? Begin(HttpContext context)
    {
        if (!writer.Enabled && !metrics.Enabled)
        {
            return null;
        }

        // Operations endpoints (health probes, the scrape, the OpenAPI document) are not traffic: no line, no count.
        if (context.GetEndpoint()?.Metadata.GetMetadata<OperationsEndpoint>() is not null)
        {
            return null;
        }

        var entry = new AccessLogEntry(time, Activity.Current);
        context.Response.OnStarting(Started, entry);
        return entry;
    }

    /// <summary>Counts the request and queues its line; never throws (a call already answered is not failed by its log).</summary>
    public void End(HttpContext context, AccessLogEntry entry)
    {
        try
        {
            var current = settings.Current;
            entry.Complete(context, current);
            metrics.Record(entry);
            if (writer.Enabled)
            {
                writer.Write(entry, current.AccessLogOutput);
            }
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            logger.LogWarning(failure, "The access log line of request {RequestId} could not be written.", context.TraceIdentifier);
        }
    }
}

/// <summary>
/// The fields of one access-log line, in order; also the log entry's state (each field a structured value). Taken from
/// the request as plain values when the response ends (no text is made then); the line is made by the writer.
/// </summary>
internal sealed class AccessLogEntry(TimeProvider time, Activity? activity) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public static readonly string[] Names =
    [
        "trace_id", "span_id", "method", "path", "route", "client", "provider", "model", "response_model", "stream", "status",
        "error_code", "duration_ms", "ttfb_ms", "input_tokens", "output_tokens", "cost_usd", "attempts", "fallback_from",
        "limiter", "requests_left", "tokens_left",
    ];

    /// <summary>The message template (the values of its holes are fields of the line).</summary>
    public const string Format = "{method} {path} {status} in {duration_ms} ms";

    private readonly long _started = time.GetTimestamp();
    private readonly ActivitySpanId _spanId = activity?.SpanId ?? default;
    private long _firstByte;
    private long _ended;
    private string? _traceId;
    private string? _method;
    private PathString _path;
    private string? _route;
    private string? _client;
    private string? _provider;
    private string? _model;
    private string? _responseModel;
    private bool? _stream;
    private int _status;
    private string? _errorCode;
    private TokenUsage? _usage;
    private decimal? _cost;
    private int _attempts;
    private string? _fallback;
    private AdmissionFeature? _admission;

    public int Count => Names.Length + 1;

    /// <summary>When the response ended.</summary>
    public DateTimeOffset Timestamp { get; private set; }

    public string? Route => _route;

    public string? Provider => _provider;

    public string? Client => _client;

    public int Status => _status;

    public string? ErrorCode => _errorCode;

    public decimal? Cost => _cost;

    public TokenUsage? Usage => _usage;

    public bool? Stream => _stream;

    /// <summary>From the request to the response's start, when it started before the call ended.</summary>
    public TimeSpan? TimeToFirstByte => _firstByteSeen == 0 ? null : time.GetElapsedTime(_started, _firstByteSeen);

    public KeyValuePair<string, object?> this[int index]
        => index < Names.Length ? new(Names[index], Value(index)) : new("{OriginalFormat}", Format);

    /// <summary>Field <paramref name="index"/> of <see cref="Names"/>.</summary>
    public object? Value(int index) => index switch
    {
        0 => _traceId,
        1 => _spanId == default ? null : _spanId.ToHexString(),
        2 => _method,
        3 => Path,
        4 => _route,
        5 => _client,
        6 => _provider,
        7 => _model,
        8 => _responseModel,
        9 => _stream,
        10 => _status,
        11 => _errorCode,
        12 => DurationMs,
        13 => _firstByteSeen == 0 ? null : Milliseconds(_firstByteSeen),
        14 => _usage?.InputTokens,
        15 => _usage?.OutputTokens,
        16 => _cost,
        17 => _attempts > 0 ? _attempts : null,
        18 => _fallback,
        19 => _admission?.Decision,
        20 => _admission?.RequestsLeft,
        21 => _admission?.TokensLeft,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <summary>Whether a field's text comes from a caller or a vendor (the path, the model names), not from the gateway.</summary>
    public static bool FromOutside(int index) => index is 3 or 7 or 8;

    private string? Path
    {
        get
        {
            var path = _path.Value;
            return path is { Length: > AccessLog.MaxPathLength } ? path[..AccessLog.MaxPathLength] : path;
        }
    }

    private double DurationMs => Milliseconds(_ended);

    public void FirstByte() => _firstByte = time.GetTimestamp();

    // The first byte as of the end of the call: a response that had not started by then starts after it (headers of an
    // empty answer), and has no time to first byte of its own.
    private long _firstByteSeen;

    public void Complete(HttpContext context, GatewaySettings settings)
    {
        _ended = time.GetTimestamp();
        _firstByteSeen = _firstByte;
        Timestamp = time.GetUtcNow();
        var request = context.Request;
        // The record of the call that was served: a fallback re-plans the call under a record of its own.
        var state = context.GetCallState();
        var call = state?.Record;
        var outcome = call?.Outcome;
        outcome?.Complete(context);
        var features = context.Features;

        // The request id is the trace id (CorrelationMiddleware), already a string.
        _traceId = context.TraceIdentifier;
        _method = request.Method;
        _path = request.PathBase.HasValue ? request.PathBase.Add(request.Path) : request.Path;
        _route = features.Get<IReverseProxyFeature>()?.Route.Config.RouteId ?? context.GetEndpoint()?.DisplayName;
        var caller = state as GatewayCall;
        _client = caller?.Client.Id;
        _provider = call?.Provider;
        _model = TelemetryText.Model(call?.Model);
        _responseModel = TelemetryText.Model(outcome?.ResponseModel);
        _stream = call is null ? null : call.Stream || IsEventStream(context.Response.ContentType);
        _status = context.Response.StatusCode;
        _errorCode = outcome?.ErrorType ?? features.Get<IGatewayErrorFeature>()?.Error.Code.Code
            ?? (context.RequestAborted.IsCancellationRequested ? CallOutcome.ClientDisconnected : null);
        _usage = outcome?.Usage;
        _cost = outcome is null ? null : settings.CostOf(call, outcome);
        _attempts = state?.Attempt?.Number ?? 0;
        var fallback = context.Response.Headers[VendorRetryMiddleware.FallbackFromHeader];
        _fallback = fallback.Count > 0 ? fallback.ToString() : null;
        _admission = caller?.Admission;
    }

    /// <summary>
    /// Writes the fields as the properties of the open JSON object, typed, without boxing or intermediate text; the
    /// fields from callers or vendors (path, model names) go through <paramref name="redact"/>. Returns the path as written.
    /// </summary>
    public string? WriteFields(Utf8JsonWriter json, Func<string, string> redact)
    {
        var path = Path is { } written ? redact(written) : null;
        WriteString(json, 0, _traceId);
        Span<byte> raw = stackalloc byte[8];
        Span<char> hex = stackalloc char[16];
        if (_spanId != default)
        {
            _spanId.CopyTo(raw);
            Convert.TryToHexStringLower(raw, hex, out _);
            json.WriteString(EncodedNames[1], hex);
        }
        else
        {
            json.WriteNull(EncodedNames[1]);
        }

        WriteString(json, 2, _method);
        WriteString(json, 3, path);
        WriteString(json, 4, _route);
        WriteString(json, 5, _client);
        WriteString(json, 6, _provider);
        WriteString(json, 7, _model is null ? null : redact(_model));
        WriteString(json, 8, _responseModel is null ? null : redact(_responseModel));
        if (_stream is { } stream)
        {
            json.WriteBoolean(EncodedNames[9], stream);
        }
        else
        {
            json.WriteNull(EncodedNames[9]);
        }

        json.WriteNumber(EncodedNames[10], _status);
        WriteString(json, 11, _errorCode);
        WriteMilliseconds(json, 12, _ended);
        WriteMilliseconds(json, 13, _firstByteSeen);
        WriteNumber(json, 14, _usage?.InputTokens);
        WriteNumber(json, 15, _usage?.OutputTokens);
        if (_cost is { } cost)
        {
            json.WriteNumber(EncodedNames[16], cost);
        }
        else
        {
            json.WriteNull(EncodedNames[16]);
        }

        WriteNumber(json, 17, _attempts > 0 ? _attempts : null);
        WriteString(json, 18, _fallback);
        WriteString(json, 19, _admission?.Decision);
        WriteNumber(json, 20, _admission?.RequestsLeft);
        WriteNumber(json, 21, _admission?.TokensLeft);
        return path;
    }

    /// <summary>The line's message ("POST /v1/ai/generate 200 in 12.345 ms") with the path as written, in <paramref name="buffer"/> when it fits.</summary>
    public ReadOnlySpan<char> Message(Span<char> buffer, string? path)
        => buffer.TryWrite(CultureInfo.InvariantCulture, $"{_method} {path} {_status} in {DurationMs} ms", out var written) ? buffer[..written] : Text(path);

    private static readonly JsonEncodedText[] EncodedNames = [.. Names.Select(n => JsonEncodedText.Encode(n))];

    private static void WriteString(Utf8JsonWriter json, int field, string? value)
    {
        if (value is null)
        {
            json.WriteNull(EncodedNames[field]);
        }
        else
        {
            json.WriteString(EncodedNames[field], value);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, int field, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(EncodedNames[field], number);
        }
        else
        {
            json.WriteNull(EncodedNames[field]);
        }
    }

    // Milliseconds with three decimals (microseconds), written as the number they are: 12.345.
    private void WriteMilliseconds(Utf8JsonWriter json, int field, long to)
    {
        if (to == 0)
        {
            json.WriteNull(EncodedNames[field]);
            return;
        }

        var micros = (long)Math.Round(time.GetElapsedTime(_started, to).TotalMicroseconds);
        Span<byte> text = stackalloc byte[32];
        if (Utf8Formatter.TryFormat(micros / 1000, text, out var whole))
        {
            text[whole] = (byte)'.';
            Utf8Formatter.TryFormat(micros % 1000, text[(whole + 1)..], out var fraction, new StandardFormat('D', 3));
            json.WritePropertyName(EncodedNames[field]);
            json.WriteRawValue(text[..(whole + 1 + fraction)], skipInputValidation: true);
        }
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => Text(Path);

    private string Text(string? path) => string.Create(CultureInfo.InvariantCulture, $"{_method} {path} {_status} in {DurationMs} ms");

    private double Milliseconds(long to) => Math.Round(time.GetElapsedTime(_started, to).TotalMilliseconds, 3);

    private static bool IsEventStream(string? contentType)
        => contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
}
