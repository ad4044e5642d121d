using System.Net;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Tasks;

/// <summary>Maps a vendor's non-2xx answer to the gateway's own error codes (the answer on normalized routes, the error type in metrics).</summary>
public static class VendorErrors
{
    internal static GatewayError FromStatus(HttpStatusCode status, string provider, string? vendorMessage)
    {
        var code = ErrorCodes.ForVendorStatus((int)status);
        var message = ErrorMessageSanitizer.Sanitize(vendorMessage);
        var detail = $"{provider} answered {(int)status}" + (message.Length > 0 ? ": " + message : ".");
        return new GatewayError(code, detail);
    }
}
