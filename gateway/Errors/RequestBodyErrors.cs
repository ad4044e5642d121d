using Gateway.Transforms.Contracts;

namespace Gateway.Errors;

/// <summary>What a failure to read the caller's body means: too large (413), too slow (408) or malformed (400).</summary>
internal static class RequestBodyErrors
{
    /// <summary>The one answer to a caller's body over the limit, wherever it is found.</summary>
    public static GatewayError TooLarge(long limit)
        => new(ErrorCodes.PayloadTooLarge, $"The request body is larger than Gateway:Limits:MaxRequestBodyBytes ({limit} bytes).");

    /// <summary>The error for a body Kestrel refused, or null when <paramref name="exception"/> is not such a refusal.</summary>
    public static GatewayError? From(Exception? exception, long limit)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is BadHttpRequestException bad)
            {
                return bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => TooLarge(limit),
                    StatusCodes.Status408RequestTimeout => new GatewayError(ErrorCodes.RequestTimeout,
                        "The request body arrived too slowly (under the server's minimum data rate) and was cut off; send it at once."),
                    _ => new GatewayError(ErrorCodes.BadRequest, "The request body could not be read: " + bad.Message),
                };
            }
        }

        return null;
    }
}
