using Gateway.Transforms.Contracts;
using Gateway.Hosting;
using Gateway.Transforms.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Errors;

/// <summary>
/// Enforces <see cref="Routing.LimitsOptions.MaxRequestBodyBytes"/> on the payload before anything reaches a vendor: a declared
/// Content-Length over the limit is refused at once; a declared one up to 64 KiB (nearly every call) is read whole into a
/// pooled array that replaces the body stream; a chunked body is read in first, counting payload bytes only (not the
/// chunk framing), so a too-large one is refused without the vendor having seen any of it. A malformed body is 400, one
/// that arrives too slowly 408.
/// </summary>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, ProblemWriter problems)
{
    // Bodies up to this size are held in memory; larger ones spill to disk past it.
    private const int InMemoryBytes = 64 * 1024;

    // Not async on the usual path (a declared body already in Kestrel's buffers): no frame of its own around the rest.
    public Task InvokeAsync(HttpContext context)
    {
        var limit = settings.Current.MaxRequestBodyBytes;
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return problems.WriteAsync(context, RequestBodyErrors.TooLarge(limit));
        }

        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true)
        {
            return next(context);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            // Kestrel counts a chunked body's framing against its own limit (2 MiB sent in 1-byte chunks is 12 MiB on the
            // wire): the payload is counted here instead. A declared length is exact, so Kestrel may keep checking it.
            size.MaxRequestBodySize = request.ContentLength is null ? null : limit;
        }

        if (request.ContentLength is not { } declared || declared > InMemoryBytes)
        {
            return ReadThenNextAsync(context, limit, pending: null);
        }

        // The usual call: a declared body of modest size, read whole into a pooled array that stands in for the body
        // stream (seekable, so it can be read for the model and sent again after a vendor 401).
        var read = PooledRequestBody.ReadAsync(request.Body, (int)declared, context.RequestAborted);
        if (!read.IsCompletedSuccessfully)
        {
            return ReadThenNextAsync(context, limit, read);
        }

        Hold(context, read.Result);
        return next(context);
    }

    private static void Hold(HttpContext context, PooledRequestBody held)
    {
        context.Response.RegisterForDispose(held);
        context.Request.Body = held;
    }

    // The body still to come (a pending read into a pooled array), or larger or chunked (no read given): buffered then —
    // in memory up to 64 KiB, then on disk — so it can be sent again after a vendor 401 and a key rotation; a chunked one
    // is read in first, counting its payload against the limit.
    private async Task ReadThenNextAsync(HttpContext context, long limit, ValueTask<PooledRequestBody>? pending)
    {
        var request = context.Request;
        GatewayError? error = null;
        try
        {
            if (pending is { } read)
            {
                Hold(context, await read);
            }
            else
            {
                request.EnableBuffering(bufferThreshold: InMemoryBytes);
                error = request.ContentLength is not null || await DrainAsync(request.Body, limit, context.RequestAborted) ? null : RequestBodyErrors.TooLarge(limit);
                request.Body.Position = 0;
            }
        }
        catch (Exception ex) when (Refused(context, ex))
        {
            if (ex is not BadHttpRequestException)
            {
                return; // the caller went away mid-body: nobody to answer
            }

            error = RequestBodyErrors.From(ex, limit);
        }

        await (error is not null ? problems.WriteAsync(context, error) : next(context));
    }

    // A body Kestrel refused (answered with its error), or a caller gone mid-body.
    private static bool Refused(HttpContext context, Exception ex)
        => ex is BadHttpRequestException || ((ex is IOException or OperationCanceledException) && context.RequestAborted.IsCancellationRequested);

    // Reads the whole body into the buffering stream; false as soon as the payload passes the limit.
    private static async Task<bool> DrainAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(scratch, cancellationToken)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    return false;
                }
            }

            return true;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
