using Gateway.Hosting;
using Gateway.Transforms.Contracts;

namespace Gateway.Telemetry;

/// <summary>
/// Around each vendor model call: records the GenAI client metrics — operation duration, and token usage when the
/// vendor reports it — from the call's record and outcome. Model labels are only models configuration names (others
/// are <c>other</c>), and the error type is always a gateway error code or <c>client_disconnected</c>. Measured by the
/// vendor call's frame (<see cref="VendorCallMiddleware"/>): <see cref="Start"/> before forwarding, <see cref="End"/>
/// once it has ended, however it ended.
/// </summary>
internal sealed class GenAiCallTelemetry(GatewaySettingsMonitor settings, GenAiMetrics metrics, TimeProvider time)
{
    /// <summary>A model call being measured (<see cref="Operation"/> null: not a model call, nothing is recorded).</summary>
    internal readonly record struct Measured(CallRecord? Call, string? Operation, long Started);

    public Measured Start(HttpContext context)
        => context.GetCallState()?.Record is { Operation: { } operation } call ? new(call, operation, time.GetTimestamp()) : default;

    public void End(HttpContext context, in Measured measured)
    {
        if (measured.Operation is not { } operation)
        {
            return;
        }

        // The record of the call that was served: a fallback re-plans the call under a record of its own.
        var call = context.GetCallState()?.Record ?? measured.Call!;
        var outcome = call.Outcome;
        outcome.Complete(context);
        GenAiTracing.CallEnded(context, outcome);
        var current = settings.Current;
        metrics.Record(
            new GenAiCall(operation, call.Provider, current.ModelLabel(call.Model), current.ModelLabel(outcome.ResponseModel, reportedByVendor: true)),
            time.GetElapsedTime(measured.Started),
            outcome.Usage,
            outcome.ErrorType);
    }
}
