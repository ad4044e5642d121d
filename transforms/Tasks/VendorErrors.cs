using System.Net;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Tasks;

/// <summary>Maps a vendor's non-2xx answer to the gateway's own error codes (the answer on normalized routes, the error type in metrics).</summary>
public static class VendorErrors
{
    /// <summary>The gateway's error code for a vendor's non-2xx status (what a normalized route answers with).</summary>
    public static ErrorCode CodeFor(int status) => status switch
    {
        StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden => ErrorCodes.VendorAuthFailed,
        StatusCodes.Status429TooManyRequests => ErrorCodes.RateLimited,
        StatusCodes.Status400BadRequest or StatusCodes.Status404NotFound or StatusCodes.Status413PayloadTooLarge
            or StatusCodes.Status422UnprocessableEntity => ErrorCodes.VendorRejected,
        StatusCodes.Status408RequestTimeout or StatusCodes.Status504GatewayTimeout => ErrorCodes.VendorTimeout,
        _ => ErrorCodes.VendorUnavailable,
    };

    internal static GatewayError FromStatus(HttpStatusCode status, string provider, string? vendorMessage)
    {
        var code = CodeFor((int)status);
        var message = ErrorMessageSanitizer.Sanitize(vendorMessage);
        var detail = $"{provider} answered {(int)status}" + (message.Length > 0 ? ": " + message : ".");
        return new GatewayError(code, detail);
    }
}
