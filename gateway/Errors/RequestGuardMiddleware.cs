using System.Buffers;
using Gateway.Transforms.Contracts;

namespace Gateway.Errors;

/// <summary>
/// Refuses, before anything else runs, requests the gateway never serves: TRACE and CONNECT (a TRACE through a
/// proxy echoes the headers the proxy added — the vendor key — back to the caller), and header values that are not
/// printable ASCII, which the vendor-side HTTP client cannot send (it would fail the call as a 502 after the caller
/// was admitted and counted).
/// </summary>
internal sealed class RequestGuardMiddleware(RequestDelegate next, ProblemWriter problems)
{
    // Visible ASCII, space and tab: what RFC 9110 field values are made of, minus obs-text.
    private static readonly SearchValues<char> FieldValueChars = SearchValues.Create(
        "\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsTrace(request.Method) || HttpMethods.IsConnect(request.Method) || request.Method == "TRACK")
        {
            return problems.WriteAsync(context, ErrorCodes.MethodNotAllowed,
                $"{request.Method} is never served: the gateway forwards API calls only.");
        }

        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                if (value is not null && value.AsSpan().ContainsAnyExcept(FieldValueChars))
                {
                    return problems.WriteAsync(context, ErrorCodes.BadRequest,
                        $"Header '{HeaderName(name)}' holds characters that are not printable ASCII; encode the value (e.g. percent-encoding) before sending it.");
                }
            }
        }

        return next(context);
    }

    // Names are tokens by the time Kestrel accepts them; keep the echo short anyway.
    private static string HeaderName(string name) => name.Length <= 64 ? name : name[..64] + "…";
}
