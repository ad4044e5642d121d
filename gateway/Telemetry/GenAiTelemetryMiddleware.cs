using Gateway.Transforms;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Tasks;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Telemetry;

/// <summary>
/// Around each vendor call: taps passthrough responses for the vendor's usage (for settlement and metrics) and records
/// the GenAI client metrics — operation duration, and token usage when the vendor reports it.
/// </summary>
internal sealed class GenAiTelemetryMiddleware(RequestDelegate next, IProviderDirectory providers, GenAiMetrics metrics, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var call = context.Features.Get<TaskCall>();
        ProviderBinding? binding = null;
        if (call is null && context.GetReverseProxyFeature().Cluster?.Config is { } cluster)
        {
            binding = providers.Find(cluster.ClusterId, cluster.Metadata);
        }

        UsageTapStream? tap = null;
        if (binding is not null)
        {
            tap = new UsageTapStream(context.Response.Body, context.Response, binding.Vendor);
            context.Response.Body = tap;
            context.Features.Set(new UsageTapFeature(tap));
        }

        var operation = call is not null ? "chat" : Operation(context.Request.Path);
        var provider = call?.Provider ?? binding?.Name;
        var started = time.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            if (operation is not null && provider is not null)
            {
                tap?.Complete();
                metrics.Record(
                    new GenAiCall(operation, provider, call?.Model, call?.ResponseModel ?? tap?.Model),
                    time.GetElapsedTime(started),
                    call?.Usage ?? tap?.Usage,
                    ErrorType(context));
            }
        }
    }

    // Passthrough paths that are model calls; anything else (models lists, files…) is not a GenAI operation.
    private static string? Operation(PathString path)
    {
        var value = path.Value ?? "";
        if (value.EndsWith("/chat/completions", StringComparison.Ordinal) || value.EndsWith("/v1/messages", StringComparison.Ordinal)
            || value.EndsWith("/v2/chat", StringComparison.Ordinal))
        {
            return "chat";
        }

        if (value.EndsWith("/embeddings", StringComparison.Ordinal) || value.EndsWith("/v2/embed", StringComparison.Ordinal))
        {
            return "embeddings";
        }

        return value.EndsWith("/v1/completions", StringComparison.Ordinal) ? "text_completion" : null;
    }

    private static string? ErrorType(HttpContext context)
    {
        if (context.Features.Get<IGatewayErrorFeature>() is { } refused)
        {
            return refused.Error.Code.Code;
        }

        if (context.Features.Get<IForwarderErrorFeature>() is { } failure)
        {
            return failure.Error == ForwarderError.RequestTimedOut ? ErrorCodes.VendorTimeout.Code : ErrorCodes.VendorUnavailable.Code;
        }

        return context.Response.StatusCode >= StatusCodes.Status400BadRequest
            ? context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : null;
    }
}
