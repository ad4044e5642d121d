using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Gateway.Auth;
using Gateway.Hosting;
using Gateway.Secrets;
using Gateway.Transforms.Contracts;
using Yarp.ReverseProxy.Model;

namespace Gateway.Telemetry;

/// <summary>
/// Prompt logging (<c>Gateway:PromptLogging</c>): for a call whose route or client asks for it, once the response has
/// ended — so never before a stream's first byte — the request body is copied (up to <see cref="MaxCaptureBytes"/>) and
/// handed to <see cref="PromptLogWriter"/>, which hashes, counts, redacts and writes it off the request path.
/// </summary>
internal sealed class PromptLogMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, PromptLogWriter writer)
{
    /// <summary>The most of a body a prompt log reads; its hash and size cover what was read.</summary>
    public const int MaxCaptureBytes = 64 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        var log = settings.Current.PromptLog;
        if (!log.AnyOn)
        {
            return next(context);
        }

        var route = context.Features.Get<IReverseProxyFeature>()?.Route.Config.RouteId;
        var client = context.Features.Get<ICallerFeature>()?.Client.Id;
        var mode = log.ModeFor(route, client);
        return mode == PromptLogMode.Off ? next(context) : LogAfterAsync(context, mode, route, client);
    }

    private async Task LogAfterAsync(HttpContext context, PromptLogMode mode, string? route, string? client)
    {
        var traceId = Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;
        try
        {
            await next(context);
        }
        finally
        {
            var body = await CaptureAsync(context.Request);
            writer.Enqueue(new PromptLogItem(traceId, route, client, mode, context.Response.StatusCode, context.Request.ContentLength, body));
        }
    }

    // The body as the gateway kept it (it is seekable once the body step has run), or null when it cannot be read again.
    private static async Task<byte[]?> CaptureAsync(HttpRequest request)
    {
        var stream = request.Body;
        if (!stream.CanSeek)
        {
            return null;
        }

        try
        {
            stream.Position = 0;
            var length = (int)Math.Min(stream.Length, MaxCaptureBytes);
            var copy = new byte[length];
            await stream.ReadExactlyAsync(copy);
            return copy;
        }
        catch (Exception failure) when (failure is IOException or ObjectDisposedException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>One call's prompt, waiting to be written.</summary>
internal sealed record PromptLogItem(string TraceId, string? Route, string? Client, PromptLogMode Mode, int Status, long? DeclaredBytes, byte[]? Body);

/// <summary>
/// Writes prompt log lines (category <see cref="Category"/>) from a bounded queue on its own task: a burst that fills the
/// queue drops lines (counted) rather than holding calls back.
/// </summary>
internal sealed class PromptLogWriter(ILoggerFactory loggers, GatewaySettingsMonitor settings, IPromptShape shape, SecretRegistry secrets) : BackgroundService
{
    public const string Category = "Gateway.PromptLog";
    public const int QueueLength = 1024;

    private static readonly EventId Prompt = new(1, "Prompt");
    private readonly ILogger _logger = loggers.CreateLogger(Category);
    private readonly Channel<PromptLogItem> _queue = Channel.CreateBounded<PromptLogItem>(
        new BoundedChannelOptions(QueueLength) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private long _dropped;

    /// <summary>Lines not written because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Enqueue(PromptLogItem item)
    {
        if (!_queue.Writer.TryWrite(item))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var item in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                Write(item);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is still queued is written below.
        }

        while (_queue.Reader.TryRead(out var left))
        {
            Write(left);
        }
    }

    private void Write(PromptLogItem item)
    {
        try
        {
            var values = new List<KeyValuePair<string, object?>>(11)
            {
                new("trace_id", item.TraceId),
                new("route", item.Route),
                new("client", item.Client),
                new("mode", ConfigEnum<PromptLogMode>.Spelling(item.Mode)),
                new("status", item.Status),
                new("bytes", item.Body?.Length ?? item.DeclaredBytes),
                new("truncated", item.DeclaredBytes > item.Body?.Length),
                new("sha256", item.Body is null ? null : Convert.ToHexStringLower(SHA256.HashData(item.Body))),
                new("messages", item.Body is null ? null : shape.MessageCount(item.Body)),
            };
            if (item.Mode == PromptLogMode.Sanitized && item.Body is not null)
            {
                var log = settings.Current.PromptLog;
                var text = Encoding.UTF8.GetString(item.Body);
                values.Add(new("prompt", secrets.Redact(log.Redactor.Redact(text, log.MaxLength))));
            }

            values.Add(new("{OriginalFormat}", "prompt of request {trace_id}"));
            _logger.Log(LogLevel.Information, Prompt, values, null, static (v, _) => $"prompt of request {v[0].Value}");
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            _logger.LogWarning("The prompt log line of request {RequestId} could not be written ({Error}).", item.TraceId, failure.GetType().Name);
        }
    }
}
