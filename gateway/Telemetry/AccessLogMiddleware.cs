using System.Diagnostics;
using Gateway.Auth;
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
/// request or response body is in it.
/// </summary>
internal sealed class AccessLogMiddleware(RequestDelegate next, ILoggerFactory loggers, GatewaySettingsMonitor settings, TimeProvider time)
{
    public const string Category = "Gateway.AccessLog";

    /// <summary>The longest request path written (the rest is cut).</summary>
    public const int MaxPathLength = 256;

    private static readonly EventId Access = new(1, "Access");

    private static readonly Func<object, Task> Started = static state =>
    {
        ((AccessLogEntry)state).FirstByte();
        return Task.CompletedTask;
    };

    private readonly ILogger _logger = loggers.CreateLogger(Category);

    public Task InvokeAsync(HttpContext context)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return next(context);
        }

        var entry = new AccessLogEntry(time, Activity.Current);
        context.Response.OnStarting(Started, entry);
        var pending = next(context);
        if (!pending.IsCompletedSuccessfully)
        {
            return LogAfterAsync(pending, context, entry);
        }

        Log(context, entry);
        return Task.CompletedTask;
    }

    private async Task LogAfterAsync(Task pending, HttpContext context, AccessLogEntry entry)
    {
        try
        {
            await pending;
        }
        finally
        {
            Log(context, entry);
        }
    }

    private void Log(HttpContext context, AccessLogEntry entry)
    {
        try
        {
            entry.Complete(context, settings.Current);
            _logger.Log(LogLevel.Information, Access, entry, null, static (e, _) => e.ToString());
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            // The access log never fails a call that has already been answered.
            _logger.LogWarning(failure, "The access log line of request {RequestId} could not be written.", context.TraceIdentifier);
        }
    }
}

/// <summary>The fields of one access-log line, in order; also the log entry's state (each field a structured value).</summary>
internal sealed class AccessLogEntry(TimeProvider time, Activity? activity) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public static readonly string[] Names =
    [
        "trace_id", "span_id", "method", "path", "route", "client", "provider", "model", "response_model", "stream", "status",
        "error_code", "duration_ms", "ttfb_ms", "input_tokens", "output_tokens", "cost_usd", "attempts", "fallback_from",
        "limiter", "requests_left", "tokens_left",
    ];

    private readonly long _started = time.GetTimestamp();
    private readonly object?[] _values = new object?[Names.Length];
    private long _firstByte;

    public int Count => Names.Length + 1;

    public KeyValuePair<string, object?> this[int index]
        => index < Names.Length ? new(Names[index], _values[index]) : new("{OriginalFormat}", "{method} {path} {status} in {duration_ms} ms");

    public void FirstByte() => _firstByte = time.GetTimestamp();

    public void Complete(HttpContext context, GatewaySettings settings)
    {
        var ended = time.GetTimestamp();
        var request = context.Request;
        // The record of the call that was served: a fallback re-plans the call under a record of its own.
        var call = context.Features.Get<CallRecord>();
        var outcome = call?.Outcome;
        outcome?.Complete(context);
        var usage = outcome?.Usage;
        var admission = context.Features.Get<AdmissionFeature>();
        var path = request.PathBase.HasValue ? request.PathBase.Add(request.Path).Value : request.Path.Value;
        var attempts = context.Features.Get<VendorAttemptFeature>()?.Number;
        var fallback = context.Response.Headers[VendorRetryMiddleware.FallbackFromHeader];

        _values[0] = activity?.TraceId.ToHexString() ?? context.TraceIdentifier;
        _values[1] = activity?.SpanId.ToHexString();
        _values[2] = request.Method;
        _values[3] = path is { Length: > AccessLogMiddleware.MaxPathLength } ? path[..AccessLogMiddleware.MaxPathLength] : path;
        _values[4] = context.Features.Get<IReverseProxyFeature>()?.Route.Config.RouteId ?? context.GetEndpoint()?.DisplayName;
        _values[5] = context.Features.Get<ICallerFeature>()?.Client.Id;
        _values[6] = call?.Provider;
        _values[7] = Bounded(call?.Model);
        _values[8] = Bounded(outcome?.ResponseModel);
        _values[9] = call is null ? null : call.Stream || IsEventStream(context.Response.ContentType);
        _values[10] = context.Response.StatusCode;
        _values[11] = outcome?.ErrorType ?? context.Features.Get<IGatewayErrorFeature>()?.Error.Code.Code
            ?? (context.RequestAborted.IsCancellationRequested ? CallOutcome.ClientDisconnected : null);
        _values[12] = Milliseconds(_started, ended);
        _values[13] = _firstByte == 0 ? null : Milliseconds(_started, _firstByte);
        _values[14] = usage?.InputTokens;
        _values[15] = usage?.OutputTokens;
        _values[16] = outcome is null ? null : settings.CostOf(call, outcome);
        _values[17] = attempts is > 0 ? attempts : null;
        _values[18] = fallback.Count > 0 ? fallback.ToString() : null;
        _values[19] = admission?.Decision;
        _values[20] = admission?.RequestsLeft;
        _values[21] = admission?.TokensLeft;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{_values[2]} {_values[3]} {_values[10]} in {_values[12]} ms";

    private double Milliseconds(long from, long to) => Math.Round(time.GetElapsedTime(from, to).TotalMilliseconds, 3);

    // A model id as a caller or vendor wrote it; an absurd length is cut, not logged whole.
    private static string? Bounded(string? model) => model is { Length: > 128 } ? model[..128] : model;

    private static bool IsEventStream(string? contentType)
        => contentType is not null && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
}
