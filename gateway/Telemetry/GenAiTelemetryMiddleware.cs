using Gateway.Hosting;
using Gateway.Transforms;
using Gateway.Transforms.Passthrough;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Tasks;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Telemetry;

/// <summary>
/// Around each vendor call: taps passthrough responses for the vendor's usage (for settlement and metrics) and records
/// the GenAI client metrics — operation duration, and token usage when the vendor reports it. Model labels are only
/// models configuration names (others are <c>other</c>), and the error type is always a gateway error code.
/// </summary>
internal sealed class GenAiTelemetryMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, GenAiMetrics metrics, TimeProvider time)
{
    /// <summary>The error type of a call the caller abandoned: not the vendor's fault, not the gateway's.</summary>
    public const string ClientDisconnected = "client_disconnected";

    public async Task InvokeAsync(HttpContext context)
    {
        var call = context.Features.Get<TaskCall>();
        var passthrough = call is null ? context.Features.Get<PassthroughCall>() : null;
        UsageTapStream? tap = null;
        if (passthrough is not null)
        {
            tap = new UsageTapStream(context.Response.Body, context.Response, passthrough.Provider.Vendor);
            context.Response.Body = tap;
            context.Features.Set(new UsageTapFeature(tap));
            if (passthrough.Operation is not null)
            {
                passthrough.RequestModel ??= await RequestModel.ReadAsync(context.Request, context.RequestAborted);
            }
        }

        var operation = call is not null ? Transforms.Vendors.GenAiOperations.Chat : passthrough?.Operation;
        var started = time.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            if (operation is not null)
            {
                tap?.Complete();
                var current = settings.Current;
                metrics.Record(
                    new GenAiCall(
                        operation,
                        call?.Provider ?? passthrough!.Provider.Name,
                        current.ModelLabel(call?.Model ?? passthrough?.RequestModel),
                        current.ModelLabel(call?.ResponseModel ?? tap?.Model, reportedByVendor: true)),
                    time.GetElapsedTime(started),
                    call?.Usage ?? tap?.Usage,
                    ErrorType(context));
            }
        }
    }

    // One vocabulary: the gateway's error codes (a vendor's own error status maps to the code a normalized route would
    // answer with), or client_disconnected.
    private static string? ErrorType(HttpContext context)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return ClientDisconnected;
        }

        if (context.Features.Get<IGatewayErrorFeature>() is { } error)
        {
            return error.Error.Code.Code;
        }

        if (context.Features.Get<IForwarderErrorFeature>() is { } failure)
        {
            return failure.Error == ForwarderError.RequestTimedOut ? ErrorCodes.VendorTimeout.Code : ErrorCodes.VendorUnavailable.Code;
        }

        return context.Response.StatusCode >= StatusCodes.Status400BadRequest ? VendorErrors.CodeFor(context.Response.StatusCode).Code : null;
    }
}
