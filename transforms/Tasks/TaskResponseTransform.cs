using System.Text;
using Gateway.Transforms.Formatting;
using Gateway.Transforms.Http;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Vendors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Tasks;

/// <summary>
/// Turns a vendor's answer on a normalized route into the internal schema (the JSON envelope, or internal SSE events), or
/// on the OpenAI-compatible route into OpenAI's chat shapes, translated as the vendor's events arrive. Vendor errors, malformed answers, empty output and output that breaks the
/// requested format become problems (or an <c>error</c> event once a stream has started); nothing throws to YARP.
/// </summary>
internal sealed partial class TaskResponseTransform(IProblemResponder problems, TimeProvider time, IGatewayDrain drain, ILogger<TaskResponseTransform> logger) : ResponseTransform
{
    /// <summary>Largest vendor body read for a non-streamed answer.</summary>
    public const int MaxVendorBodyBytes = 16 * 1024 * 1024;

    private const int MaxErrorBodyBytes = 64 * 1024;

    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var http = context.HttpContext;
        if (http.Features.Get<TaskCall>() is not { } call || context.ProxyResponse is not { } vendorResponse
            || http.Features.Get<VendorAuthFailureFeature>() is not null || http.GetCallState()?.Attempt?.Held is not null)
        {
            return;
        }

        context.SuppressResponseBody = true;
        var idleTimeout = http.GetReverseProxyFeature().Cluster?.Config.HttpRequest?.ActivityTimeout ?? TimeSpan.FromMinutes(10);
        // One token source for reading the vendor's answer and writing the caller's: its timer is the idle timeout, and
        // the caller leaving or the drain's deadline cancel it too (the catches below tell which came first).
        using var idle = new CancellationTokenSource(idleTimeout, time);
        using var callerLeft = http.RequestAborted.UnsafeRegister(Cancel, idle);
        using var drained = drain.Deadline.UnsafeRegister(Cancel, idle);
        ITaskOutput output = call.Task == TaskKind.Chat ? new ChatCompletionsOutput(http, call, problems, time) : new TaskOutput(http, call, problems);
        try
        {
            await using var body = await vendorResponse.Content.ReadAsStreamAsync(idle.Token);
            if (!vendorResponse.IsSuccessStatusCode)
            {
                GatewayError error;
                using (var errorBody = await ReadBoundedAsync(body, vendorResponse.Content.Headers.ContentLength, MaxErrorBodyBytes, idle, idleTimeout, truncate: true))
                {
                    error = VendorErrors.FromStatus(vendorResponse.StatusCode, call.Provider, call.Vendor.ReadErrorMessage(errorBody.WrittenSpan));
                }

                if (vendorResponse.Headers.RetryAfter is { } retryAfter && error.Code == ErrorCodes.RateLimited)
                {
                    http.Response.Headers.RetryAfter = retryAfter.ToString();
                }

                Log.VendorError(logger, call.Provider, (int)vendorResponse.StatusCode, error.Code.Code);
                await output.FailAsync(error);
                return;
            }

            if (call.Stream)
            {
                if (!IsEventStream(vendorResponse))
                {
                    // Nothing of a stream to translate: a (whole or cut) JSON body, an HTML page from a proxy… Answer before
                    // the caller's stream starts.
                    throw new VendorFormatException($"the answer to a streamed call is {vendorResponse.Content.Headers.ContentType?.MediaType ?? "untyped"}, not text/event-stream");
                }

                await StreamAsync(body, call, output, idle, idleTimeout);
            }
            else
            {
                using var bytes = await ReadBoundedAsync(body, vendorResponse.Content.Headers.ContentLength, MaxVendorBodyBytes, idle, idleTimeout, truncate: false);
                if (call.Task == TaskKind.Embeddings)
                {
                    var vectors = call.Vendor.ReadEmbeddingsResponse(bytes.WrittenMemory);
                    bytes.Dispose();
                    await EmbeddingsOutput.WriteAsync(http, call, vectors);
                    return;
                }

                var result = call.Vendor.ReadResponse(bytes.WrittenMemory);
                bytes.Dispose();
                await output.CompleteAsync(result);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The caller went away: leaving here disposes the vendor response, which cancels the vendor call.
            Log.CallerDisconnected(logger, call.Provider);
        }
        catch (OperationCanceledException) when (drain.Deadline.IsCancellationRequested)
        {
            // The gateway is stopping and this call outlived the drain: end it in words rather than cut it.
            await output.FailAsync(new GatewayError(ErrorCodes.GatewayStopping,
                "The gateway is stopping and this call outlived its drain time (Gateway:Shutdown:Drain); send it again — another replica takes it."));
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested)
        {
            await output.FailAsync(new GatewayError(ErrorCodes.VendorTimeout, $"{call.Provider} sent nothing for {idleTimeout} (the cluster's activity timeout)."));
        }
        catch (VendorFormatException ex)
        {
            Log.VendorBadResponse(logger, call.Provider, ex.Message);
            await output.FailAsync(new GatewayError(ErrorCodes.VendorBadResponse, $"{call.Provider}'s answer could not be read: {ex.Message}"));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            Log.VendorConnectionLost(logger, call.Provider, ex.GetType().Name);
            await output.FailAsync(new GatewayError(ErrorCodes.VendorUnavailable, $"The connection to {call.Provider} broke while its answer was being read."));
        }
    }

    private static void Cancel(object? source) => ((CancellationTokenSource)source!).Cancel();

    private static bool IsEventStream(HttpResponseMessage response)
        => string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);

    // Every read and write stops when the idle timer (or what is registered on it) cancels.
    private async Task StreamAsync(Stream body, TaskCall call, ITaskOutput output, CancellationTokenSource idle, TimeSpan idleTimeout)
    {
        var cancellationToken = idle.Token;
        var reader = call.Vendor.CreateStreamReader();
        await using var events = new SseReader(body);
        var state = new StreamState();
        await output.StartStreamAsync(state, cancellationToken);
        while (await events.ReadAsync(cancellationToken))
        {
            idle.CancelAfter(idleTimeout);
            var update = reader.Read(events.EventName, events.Data);
            state.Merge(update);
            // Kept current so a stream cut short (caller gone, vendor error) settles to what the vendor reported.
            call.Outcome.Usage = state.Usage;
            if (update.Error is not null)
            {
                await output.FailAsync(new GatewayError(ErrorCodes.VendorUnavailable, $"{call.Provider} reported an error mid-stream: {ErrorMessageSanitizer.Sanitize(update.Error)}"), state.Usage);
                return;
            }

            if (update.Delta is { Length: > 0 } delta)
            {
                await output.DeltaAsync(delta, cancellationToken);
            }

            if (update.ToolCalls is { } toolCalls)
            {
                await output.ToolCallsAsync(toolCalls, cancellationToken);
            }

            if (update.Completed)
            {
                await output.EndStreamAsync(state, cancellationToken);
                return;
            }
        }

        Log.StreamTruncated(logger, call.Provider);
        await output.FailAsync(new GatewayError(ErrorCodes.VendorUnavailable, $"{call.Provider}'s stream ended before the answer was complete."), state.Usage);
    }

    // The vendor's whole answer, into a pooled buffer sized to its declared length (the caller disposes it).
    private static async Task<PooledBuffer> ReadBoundedAsync(
        Stream body, long? declared, int limit, CancellationTokenSource idle, TimeSpan idleTimeout, bool truncate)
    {
        // One byte past the declared length, so the read that finds the end needs no larger buffer.
        var buffer = new PooledBuffer(declared is >= 0 and var length && length < limit ? (int)length + 1 : 16 * 1024);
        try
        {
            while (true)
            {
                var read = await body.ReadAsync(buffer.GetMemory(), idle.Token);
                if (read == 0)
                {
                    return buffer;
                }

                idle.CancelAfter(idleTimeout);
                buffer.Advance(read);
                if (buffer.Length > limit)
                {
                    if (!truncate)
                    {
                        throw new VendorFormatException($"the answer is larger than {limit} bytes");
                    }

                    buffer.Truncate(limit);
                    return buffer;
                }
            }
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>What a stream has said so far.</summary>
    internal sealed class StreamState
    {
        public int? InputTokens { get; private set; }

        public int? OutputTokens { get; private set; }

        public string? FinishReason { get; private set; }

        public string? Model { get; private set; }

        public string? Id { get; private set; }

        /// <summary>The model's refusal, accumulated from refusal deltas.</summary>
        public string? Refusal { get; private set; }

        public TokenUsage? Usage => InputTokens is null && OutputTokens is null ? null : new TokenUsage(InputTokens ?? 0, OutputTokens ?? 0);

        public void Merge(in StreamUpdate update)
        {
            InputTokens = update.InputTokens ?? InputTokens;
            OutputTokens = update.OutputTokens ?? OutputTokens;
            FinishReason = Refusal is null ? update.FinishReason ?? FinishReason : FinishReasons.ContentFilter;
            Model = update.Model ?? Model;
            Id = update.Id ?? Id;
            if (update.Refusal is not null)
            {
                Refusal += update.Refusal;
                FinishReason = FinishReasons.ContentFilter;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Provider} answered {Status}; returned {Code}")]
        public static partial void VendorError(ILogger logger, string provider, int status, string code);

        [LoggerMessage(2, LogLevel.Warning, "{Provider}'s answer could not be read: {Reason}")]
        public static partial void VendorBadResponse(ILogger logger, string provider, string reason);

        [LoggerMessage(3, LogLevel.Warning, "The connection to {Provider} broke mid-answer ({Exception})")]
        public static partial void VendorConnectionLost(ILogger logger, string provider, string exception);

        [LoggerMessage(4, LogLevel.Warning, "{Provider}'s stream ended before completion")]
        public static partial void StreamTruncated(ILogger logger, string provider);

        [LoggerMessage(5, LogLevel.Information, "Caller disconnected; the call to {Provider} was cancelled")]
        public static partial void CallerDisconnected(ILogger logger, string provider);
    }
}
