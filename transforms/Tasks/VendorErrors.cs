using System.Net;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Tasks;

/// <summary>Maps a vendor's non-2xx answer on a normalized route to the gateway's own error codes.</summary>
internal static class VendorErrors
{
    public static GatewayError FromStatus(HttpStatusCode status, string provider, string? vendorMessage)
    {
        var code = (int)status switch
        {
            StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden => ErrorCodes.VendorAuthFailed,
            StatusCodes.Status429TooManyRequests => ErrorCodes.RateLimited,
            StatusCodes.Status400BadRequest or StatusCodes.Status404NotFound or StatusCodes.Status413PayloadTooLarge
                or StatusCodes.Status422UnprocessableEntity => ErrorCodes.VendorRejected,
            StatusCodes.Status408RequestTimeout or StatusCodes.Status504GatewayTimeout => ErrorCodes.VendorTimeout,
            _ => ErrorCodes.VendorUnavailable,
        };

        var message = ErrorMessageSanitizer.Sanitize(vendorMessage);
        var detail = $"{provider} answered {(int)status}" + (message.Length > 0 ? ": " + message : ".");
        return new GatewayError(code, detail);
    }
}
