using Gateway.Transforms.Contracts;

namespace Gateway.Errors;

/// <summary>Outermost guard: a malformed request is a 4xx problem, anything unexpected a logged 500 problem, never a bare error.</summary>
internal sealed partial class UnhandledErrorMiddleware(RequestDelegate next, ProblemWriter problems, Gateway.Hosting.GatewaySettingsMonitor settings, ILogger<UnhandledErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex)
        {
            await problems.WriteAsync(context, RequestBodyErrors.From(ex, settings.Current.MaxRequestBodyBytes)!);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; there is nobody to answer.
        }
        catch (Exception ex)
        {
            Log.Unhandled(logger, ex);
            await problems.WriteAsync(context, ErrorCodes.Internal, "An unexpected error occurred; quote the requestId when reporting it.");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Unhandled error")]
        public static partial void Unhandled(ILogger logger, Exception exception);
    }
}
