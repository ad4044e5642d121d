using System.Diagnostics;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Telemetry;

/// <summary>
/// What a vendor call carries of the trace: <c>traceparent</c> only. The runtime's default propagator also sends
/// <c>tracestate</c> and <c>baggage</c>, which hold whatever internal callers put there (user and tenant ids, internal
/// vendor keys of other tracing systems) — those stay inside.
/// </summary>
internal sealed class TraceparentOnlyPropagator : DistributedContextPropagator
{
    public const string TraceParent = "traceparent";

    public static readonly TraceparentOnlyPropagator Instance = new();

    private static readonly DistributedContextPropagator Default = CreateDefaultPropagator();
    private static readonly string[] Dropped = [TraceParent, "tracestate", "baggage", "Request-Id", "Correlation-Context"];

    public override IReadOnlyCollection<string> Fields => Dropped;

    /// <summary>
    /// The same header, written by a request transform when HttpClient makes no activity of its own for the vendor call
    /// (spans not exported): the parent named is the request's own span, the trace id the caller's.
    /// </summary>
    public static ValueTask WriteAsync(RequestTransformContext context)
    {
        Instance.Inject(Activity.Current, context.ProxyRequest,
            static (carrier, name, value) => ((HttpRequestMessage)carrier!).Headers.TryAddWithoutValidation(name, value));
        return ValueTask.CompletedTask;
    }

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        if (carrier is HttpRequestMessage message)
        {
            foreach (var name in Dropped)
            {
                message.Headers.Remove(name);
            }
        }

        if (activity is { IdFormat: ActivityIdFormat.W3C, Id: { } id } && setter is not null)
        {
            setter(carrier, TraceParent, id);
        }
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
        => Default.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter)
        => Default.ExtractBaggage(carrier, getter);
}
