using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Gateway.Hosting;
using Gateway.Secrets;
using Gateway.Transforms.Contracts;
using Yarp.ReverseProxy.Model;

namespace Gateway.Telemetry;

/// <summary>
/// Prompt and completion logging (<c>Gateway:PromptLogging</c>): for a call whose route or client asks for it, the answer
/// the caller gets is copied as it is written (up to <see cref="MaxCaptureBytes"/>; the copy is a bounded memory copy,
/// nothing waits on it), and once the response has ended — so never before a stream's first byte — the request body is
/// copied too, and both are handed to <see cref="PromptLogWriter"/>, which hashes, counts, redacts and writes them off
/// the request path.
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
        var client = context.GetGatewayCall()?.Client.Id;
        var mode = log.ModeFor(route, client);
        return mode == PromptLogMode.Off ? next(context) : LogAfterAsync(context, mode, route, client);
    }

    private async Task LogAfterAsync(HttpContext context, PromptLogMode mode, string? route, string? client)
    {
        var traceId = Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;
        var completion = new CompletionCapture(context.Response.Body, MaxCaptureBytes);
        context.Response.Body = completion;
        try
        {
            await next(context);
        }
        finally
        {
            var body = await CaptureAsync(context.Request);
            writer.Enqueue(new PromptLogItem(traceId, route, client, mode, context.Response.StatusCode, context.Request.ContentLength, body)
            {
                Completion = completion.Captured,
                CompletionBytes = completion.Total,
            });
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

/// <summary>One call's prompt and completion, waiting to be written.</summary>
internal sealed record PromptLogItem(string TraceId, string? Route, string? Client, PromptLogMode Mode, int Status, long? DeclaredBytes, byte[]? Body)
{
    /// <summary>The start of the answer the caller got (a JSON body or the SSE events, as sent).</summary>
    public byte[]? Completion { get; init; }

    /// <summary>The whole answer's size in bytes.</summary>
    public long CompletionBytes { get; init; }
}

/// <summary>
/// The response body, passed on write for write, unchanged and unbuffered, with a copy of its first bytes kept (at most
/// the bound) and the total counted: what the caller got, for the completion log.
/// </summary>
internal sealed class CompletionCapture(Stream inner, int maxBytes) : Stream
{
    private readonly ArrayBufferWriter<byte> _copy = new(Math.Min(maxBytes, 4096));

    public long Total { get; private set; }

    public byte[] Captured => _copy.WrittenSpan.ToArray();

    private void Keep(ReadOnlySpan<byte> bytes)
    {
        Total += bytes.Length;
        var room = maxBytes - _copy.WrittenCount;
        if (room > 0)
        {
            _copy.Write(bytes[..Math.Min(room, bytes.Length)]);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        Keep(buffer.Span);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Keep(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

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
            var values = new List<KeyValuePair<string, object?>>(14)
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
                new("completion_bytes", item.CompletionBytes),
                new("completion_sha256", item.Completion is null ? null : Convert.ToHexStringLower(SHA256.HashData(item.Completion))),
            };
            if (item.Mode == PromptLogMode.Sanitized)
            {
                var log = settings.Current.PromptLog;
                if (item.Body is not null)
                {
                    values.Add(new("prompt", secrets.Redact(log.Redactor.Redact(Encoding.UTF8.GetString(item.Body), log.MaxLength))));
                }

                if (item.Completion is { Length: > 0 } completion)
                {
                    values.Add(new("completion", secrets.Redact(log.Redactor.Redact(Encoding.UTF8.GetString(completion), log.MaxLength))));
                }
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
