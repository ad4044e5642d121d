using Gateway.Errors;
using Gateway.Telemetry;

namespace Gateway.Hosting;

/// <summary>
/// The request's frame, around everything after the request id: the access log line (and traffic metrics) of every
/// answer, and inside it the outermost guard — whatever the rest throws is answered as a problem with the request id,
/// never a bare 500, and logged with that answer — and a 5xx answer's error.type on the server duration
/// (<see cref="ServerErrorType"/>). One frame for all three, and none at all for a request answered at once.
/// </summary>
internal sealed class RequestFrameMiddleware(RequestDelegate next, AccessLog accessLog, UnhandledErrors errors)
{
    public Task InvokeAsync(HttpContext context)
    {
        var entry = accessLog.Begin(context);
        Task pending;
        try
        {
            pending = next(context);
        }
        catch (Exception thrown)
        {
            pending = Task.FromException(thrown);
        }

        if (!pending.IsCompletedSuccessfully)
        {
            return EndAsync(pending, context, entry);
        }

        ServerErrorType.Add(context);
        if (entry is not null)
        {
            accessLog.End(context, entry);
        }

        return Task.CompletedTask;
    }

    private async Task EndAsync(Task pending, HttpContext context, AccessLogEntry? entry)
    {
        try
        {
            try
            {
                await pending;
            }
            catch (Exception thrown)
            {
                await errors.AnswerAsync(context, thrown);
            }
        }
        finally
        {
            ServerErrorType.Add(context);
            if (entry is not null)
            {
                accessLog.End(context, entry);
            }
        }
    }
}
