using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Hosting;

namespace Gateway.Errors;

/// <summary>
/// Writes RFC 9457 problem+json with the fields a support escalation needs: code, requestId (trace id), timestamp,
/// service, endpoint and environment.
/// </summary>
public sealed class ProblemWriter(GatewaySettingsMonitor settings, TimeProvider time)
{
    public const string ContentType = "application/problem+json";

    // Problem bodies are JSON read by programs and people, never HTML: keep quotes and angle brackets readable.
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Answers the request with the error; does nothing when the response has already started.</summary>
    public Task WriteAsync(HttpContext context, ErrorCode error, string detail)
        => WriteAsync(context, error, error.Status, detail);

    /// <summary>As <see cref="WriteAsync(HttpContext, ErrorCode, string)"/>, with a status other than the code's default.</summary>
    public async Task WriteAsync(HttpContext context, ErrorCode error, int status, string detail)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        var current = settings.Current;
        response.StatusCode = status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        response.ContentLength = null;

        using (var json = new Utf8JsonWriter(response.BodyWriter, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("type", error.Type);
            json.WriteString("title", error.Title);
            json.WriteNumber("status", status);
            json.WriteString("detail", detail);
            json.WriteString("code", error.Code);
            json.WriteString("requestId", context.TraceIdentifier);
            json.WriteString("timestamp", time.GetUtcNow().UtcDateTime);
            json.WriteString("service", current.ServiceName);
            json.WriteString("endpoint", Endpoint(context.Request));
            json.WriteString("environment", current.Environment);
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    // Method and path only: a query string can carry anything, credentials included.
    private static string Endpoint(HttpRequest request) => $"{request.Method} {request.PathBase}{request.Path}";
}
