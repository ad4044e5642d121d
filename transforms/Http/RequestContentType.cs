using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Http;

/// <summary>Whether a request says its body is JSON.</summary>
public static class RequestContentType
{
    /// <summary>
    /// <see cref="HttpRequestJsonExtensions.HasJsonContentType(HttpRequest)"/>, which parses the header, except for the
    /// two values nearly every client sends, which it would take as JSON: known without parsing them on every call.
    /// </summary>
    public static bool IsJson(HttpRequest request)
    {
        var type = request.ContentType;
        return string.Equals(type, "application/json", StringComparison.OrdinalIgnoreCase)
            || string.Equals(type, "application/json; charset=utf-8", StringComparison.OrdinalIgnoreCase)
            || request.HasJsonContentType();
    }
}
