using Gateway.Transforms;
using Gateway.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Errors;

/// <summary>
/// Enforces <see cref="LimitsOptions.MaxRequestBodyBytes"/> before anything reaches a vendor: a declared
/// Content-Length over the limit is refused at once; a chunked body is read in (up to the limit) first, so a too-large
/// one is refused without the vendor having seen any of it.
/// </summary>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, ProblemWriter problems)
{
    private const string Detail = "The request body is larger than Gateway:Limits:MaxRequestBodyBytes ({0} bytes).";

    public async Task InvokeAsync(HttpContext context)
    {
        var limit = settings.Current.MaxRequestBodyBytes;
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            await problems.WriteAsync(context, ErrorCodes.PayloadTooLarge, string.Format(null, Detail, limit));
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true)
        {
            await next(context);
            return;
        }

        // Buffered (in memory up to 64 KiB, then on disk) so the body can be sent again after a vendor 401 and a key rotation.
        request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: limit);
        if (request.ContentLength is null)
        {
            try
            {
                await request.Body.DrainAsync(context.RequestAborted);
            }
            catch (Exception ex) when (ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } or IOException)
            {
                await problems.WriteAsync(context, ErrorCodes.PayloadTooLarge, string.Format(null, Detail, limit));
                return;
            }

            request.Body.Position = 0;
        }

        await next(context);
    }
}
