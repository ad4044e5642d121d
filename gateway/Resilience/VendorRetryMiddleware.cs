using System.Globalization;
using Gateway.Errors;
using Gateway.Secrets;
using Gateway.Transforms.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Polly;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Resilience;

/// <summary>
/// Wraps the forwarder with the provider's pipeline (<see cref="ProviderPipelines"/>): a vendor's 401 for a key that
/// changed in the secret store is sent once more with the new key (<see cref="VendorKeyRecovery"/>); a vendor answer of 429, 529 or
/// 5xx that the library held back, or a vendor that could not be reached, is tried again after an exponential backoff
/// with jitter — never sooner than the vendor asked (Retry-After and its kin), and not at all when the vendor asks for
/// more than the configured cap (its answer goes to the caller at once) — only while nothing has reached the caller and
/// only for bodies that can be sent again. Every attempt counts for the provider's circuit breaker; while it is open,
/// a call moves to its fallback (<see cref="ICallFallback"/>) or is answered 503 vendor_unavailable with the time left.
/// </summary>
internal sealed partial class VendorRetryMiddleware(RequestDelegate next, ProviderPipelines pipelines, ICallFallback fallback, ProblemWriter problems,
    VendorKeyRecovery keys, Gateway.Hosting.GatewaySettingsMonitor settings, TimeProvider time, ResilienceMetrics metrics, ILogger<VendorRetryMiddleware> logger)
{
    public const string AttemptsHeader = "x-gateway-attempts";
    public const string ProviderHeader = "x-gateway-provider";
    public const string FallbackFromHeader = "x-gateway-fallback-from";

    // Attempt numbers as header values, without a string per call.
    private static readonly string[] Numbers = [.. Enumerable.Range(0, 16).Select(n => n.ToString(CultureInfo.InvariantCulture))];

    public Task InvokeAsync(HttpContext context)
        => context.GetCallState() is { Record: { } record } state ? CallAsync(context, state, record, settings.Current.Resilience) : next(context);

    // One state machine for the common call (one attempt, through the breaker): the key recovery, the retries, the
    // fallback and the answers the gateway makes itself are the rare paths.
    private async Task CallAsync(HttpContext context, CallState state, CallRecord record, ResilienceSettings resilience)
    {
        var attempt = new VendorAttemptFeature();
        state.Attempt = attempt;
        var headers = Snapshot(context.Response.Headers);
        var replayable = Replayable(context.Request);
        var provider = record.Provider;
        var firstByte = resilience.Deadline.FirstByte;
        var started = time.GetTimestamp();
        // The first-byte deadline is armed at once only when something else does not already bound the first attempt:
        // the cluster's silence timeout does when it is no longer than the deadline (bodies are buffered, so the vendor
        // is silent from the moment the request is sent) — unless the caller's answer waits for the vendor's whole
        // answer. Before any further attempt (retry, key recovery, fallback) it is armed with the time left.
        var deadline = resilience.Enabled && (record.AnsweredWhole || firstByte < SilenceTimeout(context))
            ? new CallDeadline(context, firstByte, time)
            : null;
        var expired = false;
        try
        {
            while (true)
            {
                var pipeline = resilience.Enabled ? pipelines.For(provider) : pipelines.Plain(provider);
                attempt.MaxRetryAfter = pipeline.Retry.MaxRetryAfter;
                var call = new Call(this, context, attempt, headers, replayable, provider, pipeline) { Deadline = deadline };
                pipeline.Budget.Deposit();
                try
                {
                    Outcome<AttemptResult> first;
                    if (pipeline.CircuitBreaker is null || (pipeline.IsClosed && !context.RequestAborted.IsCancellationRequested))
                    {
                        // The common call, in this frame: one attempt, made first and then counted by the closed breaker
                        // as one made inside it (Resilience/ClosedBreaker) — a throw is an outcome there, as the breaker
                        // makes it. Open or half-open (one probe at a time), and for further attempts, through the breaker.
                        try
                        {
                            BeginAttempt(call);
                            await next(context);
                            first = EndAttempt(call);
                        }
                        catch (Exception ex) when (pipeline.CircuitBreaker is not null)
                        {
                            first = Outcome.FromException<AttemptResult>(ex);
                        }

                        if (pipeline.CircuitBreaker is not null)
                        {
                            await pipeline.CountAsync(first);
                        }
                    }
                    else
                    {
                        first = await call.ThroughBreakerAsync(context.RequestAborted);
                    }

                    if (first.Exception is not BrokenCircuitException || context.Response.HasStarted)
                    {
                        first.ThrowIfException();
                        var result = first.Result;
                        if (result.Retry || result.Refused is { KeyRejected: true })
                        {
                            // The retries' first execution hands back the first attempt's result, so its backoff and the
                            // vendor's wait apply before the second attempt, and the breaker counts that attempt once.
                            call.Pending = result;
                            if (resilience.Enabled)
                            {
                                // From here the call's lifetime token is the deadline's, so backoffs stop when it passes too.
                                call.Deadline = deadline ??= Arm(context, firstByte, started);
                            }

                            result = await pipeline.Retries.ExecuteAsync(
                                static async (call, token) =>
                                {
                                    if (call.TakePending() is { } pending)
                                    {
                                        return pending;
                                    }

                                    var outcome = await call.ThroughBreakerAsync(token);
                                    outcome.ThrowIfException();
                                    return outcome.Result;
                                },
                                call, context.RequestAborted);
                        }

                        if (result.Refused is { } refused && !context.Response.HasStarted)
                        {
                            Reset(context, headers);
                            Decided(context, attempt.Number, provider);
                            await keys.AnswerAsync(context, refused);
                        }

                        break;
                    }
                }
                catch (BrokenCircuitException) when (!context.Response.HasStarted)
                {
                    // The breaker opened while the retries were waiting.
                }
                catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                {
                    // The caller left, or the deadline passed, while the next attempt was waiting (the caller decides which).
                    break;
                }

                // The provider's breaker is open (only a pipeline that is on has one): its next fallback, or 503.
                if (fallback.MoveToNext(context, pipelines.IsOpen) is not { } fallbackProvider)
                {
                    await BrokenAsync(context, headers, provider, pipeline, attempt.Number);
                    break;
                }

                headers = FellBack(context, headers, provider, fallbackProvider);
                provider = fallbackProvider;
                deadline ??= Arm(context, firstByte, started);
            }
        }
        finally
        {
            expired = deadline?.Expired == true;
            deadline?.Dispose();
        }

        // Answered with the caller's own lifetime back in place: the deadline's token is cancelled.
        if (expired && !context.Response.HasStarted)
        {
            Reset(context, headers);
            // The record of the call last made (a fallback's, when it fell back).
            var last = state.Record?.Provider ?? record.Provider;
            Decided(context, attempt.Number, last);
            Log.DeadlinePassed(logger, last, firstByte);
            await problems.WriteAsync(context, new GatewayError(ErrorCodes.VendorTimeout,
                $"No answer within the gateway's deadline for a first byte ({firstByte}, Gateway:Resilience:Deadline:FirstByte); the vendor call was cancelled."));
        }
    }

    private KeyValuePair<string, StringValues>[] FellBack(HttpContext context, KeyValuePair<string, StringValues>[] headers, string provider, string next)
    {
        Reset(context, headers);
        Log.FellBack(logger, provider, next);
        metrics.FellBack(provider, next);
        if (context.Response.Headers.ContainsKey(FallbackFromHeader))
        {
            return headers;
        }

        context.Response.Headers[FallbackFromHeader] = provider;
        return Snapshot(context.Response.Headers);
    }

    private Task BrokenAsync(HttpContext context, KeyValuePair<string, StringValues>[] headers, string provider, ProviderPipeline pipeline, int attempts)
    {
        Reset(context, headers);
        var left = pipeline.RemainingBreak;
        Log.Broken(logger, provider, left);
        // Attempts made before the breaker opened (0 when it was open already), and whose breaker it is.
        Decided(context, attempts, provider);

        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(left.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return problems.WriteAsync(context, ErrorCodes.VendorCircuitOpen,
            $"{provider} is failing: its circuit breaker is open for {Math.Ceiling(left.TotalSeconds)} s more, and this call has no fallback that can take it.");
    }

    // The forwarder's silence timeout of the call's cluster (every cluster has one: ClusterDefaultsFilter).
    private TimeSpan SilenceTimeout(HttpContext context)
        => context.GetReverseProxyFeature().Cluster?.Config.HttpRequest?.ActivityTimeout ?? settings.Current.DefaultActivityTimeout;

    // The deadline armed for a further attempt, with the time the call has left.
    private CallDeadline Arm(HttpContext context, TimeSpan firstByte, long started)
    {
        var left = firstByte - time.GetElapsedTime(started);
        return new CallDeadline(context, left > TimeSpan.Zero ? left : TimeSpan.Zero, time);
    }

    // The decision headers: how many attempts the call took, and the provider that made the last.
    private static void Decided(HttpContext context, int attempts, string provider)
    {
        var headers = context.Response.Headers;
        headers[AttemptsHeader] = Number(attempts);
        headers[ProviderHeader] = provider;
    }

    private static string Number(int number) => (uint)number < (uint)Numbers.Length ? Numbers[number] : number.ToString(CultureInfo.InvariantCulture);

    private async ValueTask<Outcome<AttemptResult>> AttemptAsync(Call call)
    {
        BeginAttempt(call);
        await next(call.Context);
        return EndAttempt(call);
    }

    // An attempt, before it is forwarded.
    private void BeginAttempt(Call call)
    {
        var (context, attempt, provider) = (call.Context, call.Attempt, call.Provider);
        if (call.Tries > 0)
        {
            Reset(context, call.Headers);
            metrics.Retried(provider);
        }

        call.Tries++;
        attempt.Number++;
        attempt.Held = null;
        attempt.VendorStatus = 0;
        attempt.AnsweredAt = 0;
        attempt.SentAt = time.GetTimestamp();
        // A retry is taken from the provider's budget before the attempt, so a held answer always has its retry; it
        // is given back when the attempt needs none.
        attempt.MayRetry = call.Replayable && call.Tries <= call.MaxRetries && call.Budget.TryWithdraw();
        Decided(context, attempt.Number, provider);
        Gateway.Telemetry.GenAiTracing.StartAttempt(context, attempt.Number);
    }

    // What came of an attempt once forwarded: for the breaker, the retries and the key recovery.
    private Outcome<AttemptResult> EndAttempt(Call call)
    {
        var (context, attempt, provider) = (call.Context, call.Attempt, call.Provider);
        Gateway.Telemetry.GenAiTracing.AttemptAnswered(context, attempt.VendorStatus);

        // A vendor failure for the breaker: 5xx and 529 (not 429: throttling is not an outage), unreachable, or silent
        // past its timeout.
        var forwarding = context.Features.Get<IForwarderErrorFeature>()?.Error;
        // To the vendor's status and headers (as HttpClient's request duration), or to the failure when none came.
        metrics.Attempted(provider, attempt.VendorStatus, forwarding, time.GetElapsedTime(attempt.SentAt, attempt.AnsweredAt != 0 ? attempt.AnsweredAt : time.GetTimestamp()));
        var failure = attempt.VendorStatus is 500 or 502 or 503 or 504 or 529
            || forwarding is ForwarderError.Request or ForwarderError.RequestTimedOut
            || (forwarding is ForwarderError.RequestCanceled && call.Deadline?.Expired == true);
        if (!context.Response.HasStarted && context.Features.Get<VendorAuthFailureFeature>() is { } refused)
        {
            // The library held the vendor's 401 back: the key recovery decides (not a failure of the vendor).
            if (attempt.MayRetry)
            {
                call.Budget.Refund();
            }

            return Outcome.FromResult(new AttemptResult(false, null, false, refused, call.Replayable));
        }

        if (context.Response.HasStarted || !attempt.MayRetry)
        {
            if (attempt.MayRetry)
            {
                call.Budget.Refund();
            }

            return Outcome.FromResult(failure ? new AttemptResult(false, null, true) : AttemptResult.Success);
        }

        if (attempt.Held is { } held)
        {
            Log.Retrying(logger, provider, held.Status, attempt.Number);
            return Outcome.FromResult(new AttemptResult(true, held.RetryAfter, failure));
        }

        // A vendor that could not be reached; not one that went silent past the cluster's timeout — it may still be
        // working on the call, and trying again would multiply the wait.
        if (forwarding is ForwarderError.Request && !context.RequestAborted.IsCancellationRequested)
        {
            Log.Unreachable(logger, provider, attempt.Number);
            return Outcome.FromResult(new AttemptResult(true, null, true));
        }

        call.Budget.Refund();
        return Outcome.FromResult(failure ? new AttemptResult(false, null, true) : AttemptResult.Success);
    }

    // Bodies are buffered by the body-limit step (task routes hold theirs in memory), so they can be sent again.
    private static bool Replayable(HttpRequest request)
        => request.Body.CanSeek || request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true;

    private static KeyValuePair<string, StringValues>[] Snapshot(IHeaderDictionary headers) => headers.Count == 0 ? [] : [.. headers];

    // Back to the state before forwarding: the held answer's headers go, the gateway's own (request id, quota) stay.
    private static void Reset(HttpContext context, KeyValuePair<string, StringValues>[] headers)
    {
        context.Features.Set<VendorAuthFailureFeature>(null);
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Features.Set<IGatewayErrorFeature>(null);
        context.Response.Clear();
        foreach (var (name, value) in headers)
        {
            context.Response.Headers[name] = value;
        }

        if (context.Request.Body.CanSeek)
        {
            context.Request.Body.Position = 0;
        }
    }

    private sealed class Call(VendorRetryMiddleware self, HttpContext context, VendorAttemptFeature attempt, KeyValuePair<string, StringValues>[] headers,
        bool replayable, string provider, ProviderPipeline pipeline)
    {
        /// <summary>The call's first-byte deadline once armed; null before (and while the resilience pipeline is off).</summary>
        public CallDeadline? Deadline { get; set; }

        /// <summary>Whether the body can be sent again.</summary>
        public bool Replayable { get; } = replayable;

        public RetryBudget Budget { get; } = pipeline.Budget;

        public AttemptResult? Pending { get; set; }

        public VendorRetryMiddleware Self { get; } = self;

        public HttpContext Context { get; } = context;

        public VendorAttemptFeature Attempt { get; } = attempt;

        public KeyValuePair<string, StringValues>[] Headers { get; } = headers;

        public int MaxRetries { get; } = pipeline.Retry.MaxRetries;

        public string Provider { get; } = provider;

        /// <summary>Attempts made at this provider.</summary>
        public int Tries { get; set; }

        public AttemptResult? TakePending()
        {
            var pending = Pending;
            Pending = null;
            return pending;
        }

        /// <summary>
        /// A further attempt (a retry, or the first while the breaker is open or half-open), through the provider's
        /// breaker when it has one; an open breaker is an outcome with a <see cref="BrokenCircuitException"/>, not a
        /// throw. The common first attempt through a closed breaker is made in <see cref="CallAsync"/> itself.
        /// </summary>
        public async ValueTask<Outcome<AttemptResult>> ThroughBreakerAsync(CancellationToken cancellationToken)
        {
            if (pipeline.CircuitBreaker is not { } breaker)
            {
                return await Self.AttemptAsync(this);
            }

            var polly = ResilienceContextPool.Shared.Get(cancellationToken);
            try
            {
                return await breaker.ExecuteOutcomeAsync(static (_, call) => call.Self.AttemptAsync(call), polly, this);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(polly);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Provider} answered {Status} to attempt {Attempt}; trying again")]
        public static partial void Retrying(ILogger logger, string provider, int status, int attempt);

        [LoggerMessage(2, LogLevel.Warning, "{Provider} could not be reached on attempt {Attempt}; trying again")]
        public static partial void Unreachable(ILogger logger, string provider, int attempt);

        [LoggerMessage(3, LogLevel.Warning, "{Provider}'s circuit breaker is open; the call falls back to {Fallback}")]
        public static partial void FellBack(ILogger logger, string provider, string fallback);

        [LoggerMessage(5, LogLevel.Warning, "No first byte from {Provider} within the deadline ({Deadline}): answering vendor_timeout")]
        public static partial void DeadlinePassed(ILogger logger, string provider, TimeSpan deadline);

        [LoggerMessage(4, LogLevel.Warning, "{Provider}'s circuit breaker is open ({Left} left) and the call has no fallback: answering vendor_unavailable")]
        public static partial void Broken(ILogger logger, string provider, TimeSpan left);
    }
}
