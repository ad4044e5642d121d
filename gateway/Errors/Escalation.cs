using System.Globalization;
using System.Text;
using Gateway.Secrets;
using Gateway.Telemetry;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Http;

namespace Gateway.Errors;

/// <summary>
/// The playbook's support escalation template (Request ID, Timestamp, Service Name, Endpoint, Environment, Payload,
/// Observed Error), filled in: the text a caller pastes into a ticket.
/// </summary>
public static class Escalation
{
    /// <summary>The most of a request body the payload sample shows, after redaction.</summary>
    public const int SampleLength = 500;

    /// <summary>What the payload line says when the body was not read (refused before it) or was too large to hold.</summary>
    public const string NoSample = "(not available: the gateway did not hold the body in memory)";

    public static string Block(string requestId, DateTime timestamp, string service, string endpoint, string environment, string payload, string observedError)
        => string.Create(CultureInfo.InvariantCulture, $"""
            Request ID: {requestId}
            Timestamp: {timestamp:yyyy-MM-ddTHH:mm:ss.fffZ}
            Service Name: {service}
            Endpoint: {endpoint}
            Environment: {environment}
            Payload: {payload}
            Observed Error: {observedError}
            """);

    /// <summary>"422 Title (code): detail", then each field at fault of a validation problem.</summary>
    public static string ObservedError(GatewayError error, string detail)
    {
        var text = $"{error.Code.Status} {error.Code.Title} ({error.Code.Code}): {detail}";
        return error.Errors is { Count: > 0 } fields ? text + " " + string.Join("; ", fields.Select(f => $"{f.Field}: {f.Message}")) : text;
    }

    /// <summary>
    /// The start of the request body, redacted (personal data, credentials, configured secrets), when the gateway holds
    /// the body in memory (the body step read a declared body up to 64 KiB); otherwise <see cref="NoSample"/>. Never
    /// reads the network.
    /// </summary>
    public static string PayloadSample(HttpRequest request, PromptRedactor redactor, SecretRegistry secrets)
    {
        if (request.Body is not PooledRequestBody { CanRead: true } held || held.Length == 0)
        {
            return NoSample;
        }

        var bytes = held.Memory.Span;
        var cut = bytes.Length > SampleLength * 4;
        var text = Encoding.UTF8.GetString(cut ? bytes[..(SampleLength * 4)] : bytes).ReplaceLineEndings(" ");
        if (cut && text.LastIndexOfAny([' ', '\t', ',', '"']) is > 0 and var end)
        {
            // Cut at the last separator: a token the cut went through (a key, a card number) is left out whole.
            text = text[..end];
        }

        return secrets.Redact(redactor.Redact(text, SampleLength));
    }
}
