using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Gateway.Transforms.Schema;

namespace Gateway.Transforms.Vendors.Anthropic;

/// <summary>Anthropic Messages (<c>POST /v1/messages</c>, <c>x-api-key</c> and a required <c>anthropic-version</c>).</summary>
public sealed class AnthropicVendor : IVendorAdapter
{
    public const string VendorName = "anthropic";

    /// <summary>The API version sent when the caller names none (the one Anthropic documents for the Messages API).</summary>
    public const string DefaultApiVersion = "2023-06-01";

    private const string VersionHeader = "anthropic-version";
    private static readonly string[] Headers = ["x-api-key"];

    private static readonly ChatRequestShape Shape = new("max_tokens", SystemAsMessage: false, HasJsonMode: false, AsksForStreamUsage: false,
        StopField: "stop_sequences", SeedField: null,
        WriteJsonSchema: static (json, schema) =>
        {
            // Structured outputs: {"output_config": {"format": {"type": "json_schema", "schema": {...}}}}.
            json.WriteStartObject("output_config");
            json.WriteStartObject("format");
            json.WriteString("type", "json_schema");
            json.WritePropertyName("schema");
            json.WriteRawValue(schema.Schema);
            json.WriteEndObject();
            json.WriteEndObject();
        });

    // Messages API: top_p and stop_sequences, no seed, no schema-less JSON mode, structured outputs by JSON schema.
    public ChatFeatures Features { get; } = new(Seed: false, JsonMode: false, MaxStop: 16, JsonSchema: true);

    public string Name => VendorName;

    public IReadOnlyList<string> CredentialHeaders => Headers;

    public string ChatPath => "/v1/messages";

    public double MaxTemperature => 1.0;

    public void ApplyCredentials(HttpRequestHeaders headers, string apiKey)
    {
        headers.TryAddWithoutValidation("x-api-key", apiKey);
        if (!headers.Contains(VersionHeader))
        {
            headers.TryAddWithoutValidation(VersionHeader, DefaultApiVersion);
        }
    }

    // Anthropic has no JSON mode: the format instruction in the system prompt asks for JSON, and the gateway checks it parses.
    public byte[] WriteRequest(VendorRequest request) => VendorJson.WriteChatRequest(request, Shape);

    public VendorResponse ReadResponse(ReadOnlySpan<byte> body)
    {
        using var document = VendorJson.Parse(body);
        var root = document.RootElement;
        var content = root.Child("content");
        if (root.String("type") != "message" || content.ValueKind != JsonValueKind.Array)
        {
            throw new VendorFormatException("the response is not a message with content");
        }

        var text = VendorJson.TextBlocks(content);
        var usage = root.Child("usage");
        var finish = MapFinish(root.String("stop_reason"));
        return new VendorResponse(
            root.String("id"),
            root.String("model"),
            text,
            finish ?? FinishReasons.Stop,
            usage.Int("input_tokens") is { } input ? new TokenUsage(input, usage.Int("output_tokens") ?? 0) : null,
            finish == FinishReasons.ContentFilter ? text : null);
    }

    public string? ReadErrorMessage(ReadOnlySpan<byte> body) => VendorJson.ErrorMessage(body);

    // {"error": {"type", "message"}}: the problem's own top-level "type" stands where Anthropic writes "error".
    public void WriteErrorMembers(Utf8JsonWriter json, int status, string code, string message)
    {
        json.WriteStartObject("error");
        json.WriteString("type", status switch
        {
            400 or 405 or 408 or 415 or 422 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            503 or 529 => "overloaded_error",
            _ => "api_error",
        });
        json.WriteString("message", message);
        json.WriteEndObject();
    }

    // {"type": "error", "error": {"type": "authentication_error", ...}}: "invalid x-api-key".
    public bool RejectsKey(ReadOnlySpan<byte> body) => VendorJson.ErrorField(body, "type") == "authentication_error";

    public IVendorStreamReader CreateStreamReader() => new StreamReader();

    // Messages put usage (input_tokens/output_tokens) and model at the top; a token count reports no usage object.
    public PassthroughUsage ReadUsage(ReadOnlySpan<byte> body) => VendorJson.TopLevelUsage(body);

    // Messages, token counting and models; not batches, files, skills, organization or admin APIs.
    // Retry-After, else an exhausted limit's reset time (anthropic-ratelimit-requests-remaining: 0 →
    // anthropic-ratelimit-requests-reset: an RFC 3339 time).
    public TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (RetryAfterHeader.Read(headers, now) is { } standard)
        {
            return standard;
        }

        TimeSpan? wait = null;
        foreach (var limit in (ReadOnlySpan<string>)["requests", "tokens", "input-tokens", "output-tokens"])
        {
            if (VendorHeaders.Single(headers, $"anthropic-ratelimit-{limit}-remaining") == "0"
                && DateTimeOffset.TryParse(VendorHeaders.Single(headers, $"anthropic-ratelimit-{limit}-reset"), System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out var reset))
            {
                var until = reset > now ? reset - now : TimeSpan.Zero;
                wait = wait is null || until > wait ? until : wait;
            }
        }

        return wait;
    }

    public PassthroughProfile Passthrough { get; } = new(
        PassthroughRule.List("POST /v1/messages", "POST /v1/messages/count_tokens", "GET /v1/models/**"),
        RequestHeaders: [VersionHeader, "anthropic-beta"],
        RequestHeaderPrefixes: ["x-stainless-"],
        ConfiguredOnlyHeaders: [],
        ResponseHeadersDropped: ["anthropic-organization-id"]);

    public string? PassthroughOperation(string method, string path)
        => HttpMethods.IsPost(method) && path == "/v1/messages" ? GenAiOperations.Chat : null;

    private static string? MapFinish(string? reason) => reason switch
    {
        null => null,
        "end_turn" or "stop_sequence" or "pause_turn" => FinishReasons.Stop,
        "max_tokens" or "model_context_window_exceeded" => FinishReasons.Length,
        "refusal" => FinishReasons.ContentFilter,
        "tool_use" => FinishReasons.ToolCalls,
        _ => FinishReasons.Stop,
    };

    /// <summary>
    /// message_start (model, input tokens), content_block_delta (text), message_delta (stop reason, final output
    /// tokens), message_stop; an error event can arrive mid-stream.
    /// </summary>
    private sealed class StreamReader : IVendorStreamReader
    {
        public StreamUpdate Read(string? eventName, ReadOnlySpan<byte> data)
        {
            switch (eventName)
            {
                case "ping" or "content_block_start" or "content_block_stop":
                    return StreamUpdate.Nothing;
                case "message_stop":
                    return new StreamUpdate(Completed: true);
            }

            using var document = VendorJson.Parse(data);
            var root = document.RootElement;
            switch (eventName ?? root.String("type"))
            {
                case "message_start":
                    var message = root.Child("message");
                    var usage = message.Child("usage");
                    return new StreamUpdate(InputTokens: usage.Int("input_tokens"), OutputTokens: usage.Int("output_tokens"),
                        Model: message.String("model"), Id: message.String("id"));
                case "content_block_delta":
                    var delta = root.Child("delta");
                    return delta.String("type") == "text_delta" ? new StreamUpdate(Delta: delta.String("text")) : StreamUpdate.Nothing;
                case "message_delta":
                    return new StreamUpdate(OutputTokens: root.Child("usage").Int("output_tokens"), FinishReason: MapFinish(root.Child("delta").String("stop_reason")));
                case "error":
                    return new StreamUpdate(Error: root.Child("error").String("message") ?? "the vendor reported an error mid-stream");
                case "message_stop":
                    return new StreamUpdate(Completed: true);
                default:
                    return StreamUpdate.Nothing;
            }
        }
    }
}
