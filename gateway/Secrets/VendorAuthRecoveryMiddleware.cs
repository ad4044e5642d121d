using Gateway.Errors;
using Gateway.Transforms.Contracts;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Secrets;

/// <summary>
/// Wraps the forwarder. When the vendor answered 401, the key is re-read once (concurrent 401s share the read); if it
/// changed, the request is sent once more with the new key — the response has not started, the 401 was held back —
/// and otherwise the caller gets 502 vendor_auth_failed. Never more than one retry.
/// </summary>
internal sealed partial class VendorAuthRecoveryMiddleware(RequestDelegate next, IVendorKeySource keys, ProblemWriter problems, ILogger<VendorAuthRecoveryMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var headers = Snapshot(context.Response.Headers);
        await next(context);
        if (context.Features.Get<VendorAuthFailureFeature>() is not { } failure || context.Response.HasStarted)
        {
            return;
        }

        if (!failure.KeyRejected)
        {
            // The vendor refused this call, not the key (a restricted key's missing scope, say): nothing to re-read or
            // switch, and nothing one caller may use to move every caller onto another key.
            Log.CallRefused(logger, failure.Provider);
            Reset(context, headers);
            await problems.WriteAsync(context, new GatewayError(ErrorCodes.VendorAuthFailed,
                $"{failure.Provider} refused this call with 401{Quoted(failure.Message)}. The gateway's key is valid; the call needs a permission it lacks."));
            return;
        }

        if (Replayable(context.Request) && await keys.RecoverAsync(failure.Provider, failure.Key, context.RequestAborted))
        {
            Log.Retrying(logger, failure.Provider);
            Reset(context, headers);
            if (context.Request.Body.CanSeek)
            {
                context.Request.Body.Position = 0;
            }

            await next(context);
            if (context.Features.Get<VendorAuthFailureFeature>() is not { } second || context.Response.HasStarted)
            {
                return;
            }

            failure = second;
        }

        Log.Refused(logger, failure.Provider);
        Reset(context, headers);
        await problems.WriteAsync(context, new GatewayError(ErrorCodes.VendorAuthFailed,
            $"{failure.Provider} refused the gateway's key (401){Quoted(failure.Message)}. The key was read again and no other key is available; check {failure.Provider}'s key in the secret store."));
    }

    // ": <the vendor's message>" (sanitized where it was read) without its final stop, so the sentence that follows
    // does not start after "..".
    private static string Quoted(string vendorMessage)
    {
        var message = vendorMessage.TrimEnd('.', ' ');
        return message.Length > 0 ? ": " + message : "";
    }

    // Bodies are buffered by RequestBodyLimitMiddleware (and task routes hold theirs in memory), so they can be sent again.
    private static bool Replayable(HttpRequest request)
        => request.Body.CanSeek || request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true;

    // Usually empty (or the two RateLimit fields) before forwarding: nothing to copy on the common path.
    private static KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] Snapshot(IHeaderDictionary headers)
        => headers.Count == 0 ? [] : [.. headers];

    // Back to the state before forwarding: the vendor's 401 headers go, the gateway's own (request id, quota) stay.
    private static void Reset(HttpContext context, KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] headers)
    {
        context.Features.Set<VendorAuthFailureFeature>(null);
        context.Features.Set<Yarp.ReverseProxy.Forwarder.IForwarderErrorFeature>(null);
        context.Features.Set<IGatewayErrorFeature>(null);
        context.Response.Clear();
        foreach (var (name, value) in headers)
        {
            context.Response.Headers[name] = value;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Provider} refused the key (401); it changed in the secret store, retrying once with the new key")]
        public static partial void Retrying(ILogger logger, string provider);

        [LoggerMessage(2, LogLevel.Error, "{Provider} refused the gateway's key (401) and no other key is available: answering vendor_auth_failed")]
        public static partial void Refused(ILogger logger, string provider);

        [LoggerMessage(3, LogLevel.Warning, "{Provider} refused a call with 401 without rejecting the key (a missing permission): answering vendor_auth_failed")]
        public static partial void CallRefused(ILogger logger, string provider);
    }
}
