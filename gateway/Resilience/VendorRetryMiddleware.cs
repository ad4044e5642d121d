using Gateway.Hosting;
using Gateway.Transforms.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Polly;
using Polly.Retry;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Resilience;

/// <summary>
/// Wraps the forwarder with the provider's retry pipeline (Polly.Core, on the gateway's clock): a vendor answer of 429,
/// 529 or 5xx that the library held back, or a vendor that could not be reached, is tried again after an exponential
/// backoff with jitter — never sooner than the vendor asked (Retry-After and its kin), and not at all when the vendor
/// asks for more than the configured cap (its answer goes to the caller at once). Only while nothing has reached the
/// caller, and only for bodies that can be sent again. The last attempt's answer is the caller's, whatever it is.
/// </summary>
internal sealed partial class VendorRetryMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, TimeProvider time, ResilienceMetrics metrics,
    ILogger<VendorRetryMiddleware> logger)
{
    public const string AttemptsHeader = "x-gateway-attempts";

    private readonly object _gate = new();
    private GatewaySettings? _builtFor;
    private Dictionary<string, ResiliencePipeline<AttemptResult>> _pipelines = [];

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<CallRecord>() is not { } record)
        {
            await next(context);
            return;
        }

        var retry = settings.Current.Resilience.RetryFor(record.Provider);
        var attempt = new VendorAttemptFeature { MaxRetryAfter = retry.MaxRetryAfter };
        context.Features.Set(attempt);
        var replayable = Replayable(context.Request);
        if (retry.MaxRetries == 0 || !replayable)
        {
            attempt.Number = 1;
            await next(context);
            return;
        }

        var headers = context.Response.Headers.Count == 0 ? [] : context.Response.Headers.ToArray();
        var call = new Call(this, context, attempt, headers, retry.MaxRetries, record.Provider);
        // The first attempt runs outside the pipeline: most calls need no other, and pay nothing for one.
        var first = await AttemptAsync(call);
        if (!first.Retry)
        {
            return;
        }

        try
        {
            // The pipeline's first execution hands back the first attempt's result, so its backoff and the vendor's
            // wait apply before the second attempt.
            call.Pending = first;
            await Pipeline(record.Provider).ExecuteAsync(static (call, _) => call.TakePending() is { } pending ? ValueTask.FromResult(pending) : call.Self.AttemptAsync(call),
                call, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller left while the next attempt was waiting: nobody to try again for, nothing to answer.
        }
    }

    private async ValueTask<AttemptResult> AttemptAsync(Call call)
    {
        var (context, attempt, headers, max, provider) = (call.Context, call.Attempt, call.Headers, call.MaxRetries, call.Provider);
        if (attempt.Number > 0)
        {
            Reset(context, headers);
            metrics.Retried(provider);
        }

        attempt.Number++;
        attempt.Held = null;
        attempt.MayRetry = attempt.Number <= max;
        context.Response.Headers[AttemptsHeader] = attempt.Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await next(context);
        if (context.Response.HasStarted || !attempt.MayRetry)
        {
            return AttemptResult.Final;
        }

        if (attempt.Held is { } held)
        {
            Log.Retrying(logger, provider, held.Status, attempt.Number);
            return new AttemptResult(true, held.RetryAfter);
        }

        // A vendor that could not be reached; not one that went silent past the cluster's timeout — it may still be
        // working on the call, and trying again would multiply the wait (the deadline work will decide those).
        if (context.Features.Get<IForwarderErrorFeature>() is { Error: ForwarderError.Request } failure
            && !context.RequestAborted.IsCancellationRequested)
        {
            Log.Unreachable(logger, provider, failure.Error, attempt.Number);
            return new AttemptResult(true, null);
        }

        return AttemptResult.Final;
    }

    private sealed record Call(VendorRetryMiddleware Self, HttpContext Context, VendorAttemptFeature Attempt, KeyValuePair<string, StringValues>[] Headers,
        int MaxRetries, string Provider)
    {
        public AttemptResult? Pending { get; set; }

        public AttemptResult? TakePending()
        {
            var pending = Pending;
            Pending = null;
            return pending;
        }
    }

    private ResiliencePipeline<AttemptResult> Pipeline(string provider)
    {
        var current = settings.Current;
        var pipelines = _pipelines;
        if (ReferenceEquals(_builtFor, current) && pipelines.TryGetValue(provider, out var built))
        {
            return built;
        }

        lock (_gate)
        {
            if (!ReferenceEquals(_builtFor, current))
            {
                // Settings were reloaded: pipelines are rebuilt from the new ones as providers are used.
                _pipelines = pipelines = [];
                _builtFor = current;
            }
            else
            {
                pipelines = new Dictionary<string, ResiliencePipeline<AttemptResult>>(_pipelines);
            }

            if (!pipelines.TryGetValue(provider, out built))
            {
                built = Build(current.Resilience.RetryFor(provider));
                pipelines[provider] = built;
                _pipelines = pipelines;
            }

            return built;
        }
    }

    private ResiliencePipeline<AttemptResult> Build(RetryOptions retry) => new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time }
        .AddRetry(new RetryStrategyOptions<AttemptResult>
        {
            MaxRetryAttempts = retry.MaxRetries,
            ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result is { Retry: true }),
            // Exponential with jitter (0.8–1.2), capped; the vendor's own wait is the floor.
            DelayGenerator = args =>
            {
                var backoff = retry.BaseDelay * Math.Pow(2, args.AttemptNumber) * (0.8 + Random.Shared.NextDouble() * 0.4);
                var chosen = backoff < retry.MaxDelay ? backoff : retry.MaxDelay;
                var floor = args.Outcome.Result?.RetryAfter ?? TimeSpan.Zero;
                return ValueTask.FromResult<TimeSpan?>(floor > chosen ? floor : chosen);
            },
        })
        .Build();

    // Bodies are buffered by the body-limit step (task routes hold theirs in memory), so they can be sent again.
    private static bool Replayable(HttpRequest request)
        => request.Body.CanSeek || request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true;

    // Back to the state before forwarding: the held answer's headers go, the gateway's own (request id, quota) stay.
    private static void Reset(HttpContext context, KeyValuePair<string, StringValues>[] headers)
    {
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

    /// <summary>What one attempt came to: whether to try again, and the wait the vendor asked for.</summary>
    internal sealed record AttemptResult(bool Retry, TimeSpan? RetryAfter)
    {
        public static readonly AttemptResult Final = new(false, null);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Provider} answered {Status} to attempt {Attempt}; trying again")]
        public static partial void Retrying(ILogger logger, string provider, int status, int attempt);

        [LoggerMessage(2, LogLevel.Warning, "{Provider} could not be reached ({Error}) on attempt {Attempt}; trying again")]
        public static partial void Unreachable(ILogger logger, string provider, ForwarderError error, int attempt);
    }
}
