using Gateway.Transforms.Contracts;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Errors;

/// <summary>
/// After YARP's forwarder: turns a forwarding failure (timeout, connection refused, …) or a transform's refusal into
/// a problem+json body. A vendor's own error responses pass through untouched. Answered by the vendor call's frame
/// (<see cref="Gateway.Hosting.VendorCallMiddleware"/>) once forwarding has returned, inside the call's metrics and
/// settlement, so both see the same failure.
/// </summary>
internal sealed partial class ForwarderProblems(ProblemWriter problems, Gateway.Hosting.GatewaySettingsMonitor settings, ILogger<ForwarderProblems> logger)
{
    /// <summary>Answers the failure forwarding left, if any (completed at once when there is none).</summary>
    public Task AnswerAsync(HttpContext context)
    {
        if (context.Features.Get<IGatewayErrorFeature>() is { } refused)
        {
            return problems.WriteAsync(context, refused.Error);
        }

        if (context.Features.Get<IForwarderErrorFeature>() is not { } failure)
        {
            return Task.CompletedTask;
        }

        if (CallerLeft(context, failure.Error))
        {
            // Nobody to answer, and nothing wrong with the vendor or the gateway.
            Log.CallerLeft(logger, failure.Error);
            return Task.CompletedTask;
        }

        if (context.Response.HasStarted)
        {
            // The vendor's status and part of its body are already with the caller; only the connection can be cut.
            Log.FailedAfterResponseStarted(logger, failure.Error);
            return Task.CompletedTask;
        }

        var error = failure.Error switch
        {
            ForwarderError.RequestTimedOut => new GatewayError(ErrorCodes.VendorTimeout, "The vendor did not answer within the cluster's activity timeout."),
            ForwarderError.RequestBodyClient => RequestBodyErrors.From(failure.Exception, settings.Current.MaxRequestBodyBytes)
                ?? new GatewayError(ErrorCodes.BadRequest, "The request body could not be read."),
            ForwarderError.NoAvailableDestinations => new GatewayError(ErrorCodes.VendorUnavailable, "No vendor destination is available for this route."),
            _ => new GatewayError(ErrorCodes.VendorUnavailable, "The vendor could not be reached."),
        };

        Log.ForwardingFailed(logger, failure.Error, error.Code.Code);
        return problems.WriteAsync(context, error);
    }

    private static bool CallerLeft(HttpContext context, ForwarderError error)
        => context.RequestAborted.IsCancellationRequested
            || error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                or ForwarderError.ResponseBodyClient or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled;

    private static partial class Log
    {
        [LoggerMessage(3, LogLevel.Debug, "The caller went away while the call was forwarded ({ForwarderError})")]
        public static partial void CallerLeft(ILogger logger, ForwarderError forwarderError);

        [LoggerMessage(1, LogLevel.Warning, "Forwarding failed ({ForwarderError}); answered {Code}")]
        public static partial void ForwardingFailed(ILogger logger, ForwarderError forwarderError, string code);

        [LoggerMessage(2, LogLevel.Warning, "Forwarding failed ({ForwarderError}) after the response had started; connection cut")]
        public static partial void FailedAfterResponseStarted(ILogger logger, ForwarderError forwarderError);
    }
}
