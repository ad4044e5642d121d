using Gateway.Hosting;
using Gateway.Transforms.Contracts;

namespace Gateway.Telemetry;

/// <summary>
/// Around each vendor model call: records the GenAI client metrics — operation duration, and token usage when the
/// vendor reports it — from the call's record and outcome. Model labels are only models configuration names (others
/// are <c>other</c>), and the error type is always a gateway error code or <c>client_disconnected</c>.
/// </summary>
internal sealed class GenAiTelemetryMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, GenAiMetrics metrics, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<CallRecord>() is not { Operation: { } operation } call)
        {
            await next(context);
            return;
        }

        var started = time.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            // The record of the call that was served: a fallback re-plans the call under a record of its own.
            call = context.Features.Get<CallRecord>() ?? call;
            var outcome = call.Outcome;
            outcome.Complete(context);
            GenAiTracing.CallEnded(context, outcome);
            var current = settings.Current;
            metrics.Record(
                new GenAiCall(operation, call.Provider, current.ModelLabel(call.Model), current.ModelLabel(outcome.ResponseModel, reportedByVendor: true)),
                time.GetElapsedTime(started),
                outcome.Usage,
                outcome.ErrorType);
        }
    }
}
