using System.Diagnostics;
using Gateway.Hosting;
using Gateway.Limiting;
using Gateway.Transforms.Contracts;

namespace Gateway.Telemetry;

/// <summary>
/// A span per vendor attempt (source <see cref="SourceName"/>, kind client, named "{operation} {model}" as the GenAI
/// semantic conventions name them) with the conventions' attributes: <c>gen_ai.operation.name</c>,
/// <c>gen_ai.provider.name</c>, <c>gen_ai.request.model</c>, and when the call has ended <c>gen_ai.response.model</c>,
/// <c>gen_ai.usage.input_tokens</c>, <c>gen_ai.usage.output_tokens</c>, <c>gen_ai.response.finish_reasons</c>,
/// <c>error.type</c>; plus <c>gateway.attempt</c> and <c>gateway.limiter.decision</c>. The vendor request's own HTTP
/// span is its child, so the caller's trace id reaches the vendor in traceparent. An attempt that is tried again ends
/// when the next starts; the last one ends with the call (a stream's, with the stream), recorded by
/// <see cref="GenAiCallTelemetry"/>. Nothing is made unless a listener samples the source (OTLP export on).
/// </summary>
public static class GenAiTracing
{
    public const string SourceName = "Gateway.GenAi";

    private static readonly ActivitySource Source = new(SourceName);

    // Whether any call has had an attempt span: until one has, no request has one to look up (spans are exported only
    // when configured), and the three lookups a call would make — each missing, so each also searching the
    // connection's features — are skipped.
    private static volatile bool _spansStarted;

    /// <summary>Ends the previous attempt's span, if any, as failed, and starts this attempt's.</summary>
    public static void StartAttempt(HttpContext context, int attempt)
    {
        var open = _spansStarted ? context.Features.Get<AttemptSpan>() : null;
        if (open?.Span is { } previous)
        {
            previous.SetTag("error.type", open.VendorStatus > 0 ? ErrorCodes.ForVendorStatus(open.VendorStatus).Code : ErrorCodes.VendorUnavailable.Code);
            previous.SetStatus(ActivityStatusCode.Error);
            previous.Stop();
            open.Span = null;
        }

        if (!Source.HasListeners() || context.GetCallState()?.Record is not { Operation: { } operation } call)
        {
            return;
        }

        var model = TelemetryText.Model(call.Model);
        var span = Source.StartActivity(model is null ? operation : $"{operation} {model}", ActivityKind.Client);
        if (span is null)
        {
            return;
        }

        span.SetTag("gen_ai.operation.name", operation);
        span.SetTag("gen_ai.provider.name", call.Provider);
        span.SetTag("gen_ai.request.model", model);
        span.SetTag("gateway.attempt", attempt);
        span.SetTag("gateway.limiter.decision", context.GetGatewayCall()?.Admission?.Decision);
        if (open is null)
        {
            _spansStarted = true;
            context.Features.Set(open = new AttemptSpan());
        }

        open.Span = span;
        open.VendorStatus = 0;
    }

    /// <summary>What the vendor answered the attempt (0 when it did not answer).</summary>
    public static void AttemptAnswered(HttpContext context, int vendorStatus)
    {
        if (_spansStarted && context.Features.Get<AttemptSpan>() is { Span: { } span } open)
        {
            open.VendorStatus = vendorStatus;
            if (vendorStatus > 0)
            {
                span.SetTag("http.response.status_code", vendorStatus);
            }
        }
    }

    /// <summary>Ends the last attempt's span with what came of the call.</summary>
    public static void CallEnded(HttpContext context, CallOutcome outcome)
    {
        if (!_spansStarted || context.Features.Get<AttemptSpan>() is not { Span: { } span } open)
        {
            return;
        }

        open.Span = null;
        span.SetTag("gen_ai.response.model", TelemetryText.Model(outcome.ResponseModel));
        if (outcome.Usage is { } usage)
        {
            span.SetTag("gen_ai.usage.input_tokens", usage.InputTokens);
            span.SetTag("gen_ai.usage.output_tokens", usage.OutputTokens);
        }

        if (outcome.FinishReason is { } finish)
        {
            span.SetTag("gen_ai.response.finish_reasons", new[] { finish });
        }

        if (outcome.ErrorType is { } error)
        {
            span.SetTag("error.type", error);
            span.SetStatus(ActivityStatusCode.Error);
        }

        span.Stop();
    }

    /// <summary>The span of the attempt in progress (or the last one, until the call ends).</summary>
    private sealed class AttemptSpan
    {
        public Activity? Span { get; set; }

        public int VendorStatus { get; set; }
    }
}
