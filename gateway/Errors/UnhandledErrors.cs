using Gateway.Transforms.Contracts;

namespace Gateway.Errors;

/// <summary>
/// The outermost guard's answers: a malformed request is a 4xx problem, anything unexpected a logged 500 problem,
/// never a bare error. Applied by the request's frame (<see cref="Gateway.Hosting.RequestFrameMiddleware"/>) to
/// whatever the rest of the pipeline throws.
/// </summary>
internal sealed partial class UnhandledErrors(ProblemWriter problems, Gateway.Hosting.GatewaySettingsMonitor settings, ILogger<UnhandledErrors> logger)
{
    public Task AnswerAsync(HttpContext context, Exception thrown)
    {
        switch (thrown)
        {
            case BadHttpRequestException malformed:
                return problems.WriteAsync(context, RequestBodyErrors.From(malformed, settings.Current.MaxRequestBodyBytes)!);
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                // The caller went away; there is nobody to answer.
                return Task.CompletedTask;
            default:
                Log.Unhandled(logger, thrown);
                return problems.WriteAsync(context, ErrorCodes.Internal, "An unexpected error occurred; quote the requestId when reporting it.");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Unhandled error")]
        public static partial void Unhandled(ILogger logger, Exception exception);
    }
}
