using Gateway.Errors;
using Gateway.Limiting;
using Gateway.Telemetry;

namespace Gateway.Hosting;

/// <summary>
/// The vendor call's frame, around the forwarding steps: admission (a reservation, or the 429), the GenAI metrics of
/// the admitted call, and the problem a forwarding failure becomes — in that nesting, so the metrics and the
/// settlement see the problem the caller got, and a call that throws is still measured and settled. One async frame
/// for the three: each would otherwise wait on the vendor call in a frame of its own.
/// </summary>
internal sealed class VendorCallMiddleware(RequestDelegate next, Admission admission, GenAiCallTelemetry telemetry, ForwarderProblems problems)
{
    public Task InvokeAsync(HttpContext context) => CallAsync(context, admission.AdmitAsync(context));

    // The admission awaited in this frame too (at once when decided in process; a Redis decision needs no frame of its own).
    private async Task CallAsync(HttpContext context, ValueTask<Admission.Ticket> admitting)
    {
        var ticket = await admitting;
        if (ticket.Refused)
        {
            return;
        }

        try
        {
            var measured = telemetry.Start(context);
            try
            {
                await next(context);
                await problems.AnswerAsync(context);
            }
            finally
            {
                telemetry.End(context, measured);
            }
        }
        finally
        {
            await admission.SettleAsync(context, ticket);
        }
    }
}
