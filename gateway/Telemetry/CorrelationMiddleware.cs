using System.Diagnostics;

namespace Gateway.Telemetry;

/// <summary>
/// Makes the W3C trace id the request id: it becomes <see cref="HttpContext.TraceIdentifier"/> (so logs and errors carry
/// it) and is echoed as <c>x-request-id</c> on every response. A vendor's own x-request-id is kept as x-vendor-request-id.
/// </summary>
internal sealed class CorrelationMiddleware(RequestDelegate next)
{
    public const string RequestIdHeader = "x-request-id";
    public const string VendorRequestIdHeader = "x-vendor-request-id";

    private static readonly Func<object, Task> OnStarting = static state =>
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        if (headers.TryGetValue(RequestIdHeader, out var vendorId) && vendorId != context.TraceIdentifier)
        {
            headers[VendorRequestIdHeader] = vendorId;
        }

        headers[RequestIdHeader] = context.TraceIdentifier;
        return Task.CompletedTask;
    };

    public Task InvokeAsync(HttpContext context)
    {
        var activity = Activity.Current;
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C)
        {
            // ASP.NET Core starts an activity for every request when logging or tracing listens; this keeps the
            // contract when neither does.
            activity = new Activity("Gateway.Request");
            if (context.Request.Headers.TryGetValue("traceparent", out var parent))
            {
                activity.SetParentId(parent.ToString());
            }

            activity.SetIdFormat(ActivityIdFormat.W3C).Start();
            context.Response.RegisterForDispose(activity);
        }

        context.TraceIdentifier = activity.TraceId.ToHexString();
        context.Response.OnStarting(OnStarting, context);
        return next(context);
    }
}
