using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Unicode;
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
        },
        WriteTools: WriteTools,
        WriteMessages: WriteMessages);

    // Messages API: top_p and stop_sequences, no seed, no schema-less JSON mode, structured outputs by JSON schema;
    // tools with every choice, serial calls and strict schemas; images without a detail level.
    public ChatFeatures Features { get; } = new(Seed: false, JsonMode: false, MaxStop: 16, JsonSchema: true, ImageDetail: false);

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

    public VendorResponse ReadResponse(ReadOnlyMemory<byte> body)
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
            finish == FinishReasons.ContentFilter ? text : null,
            ToolUses(content));
    }

    // {"type": "tool_use", "id", "name", "input": {...}} blocks, the input as the call's arguments text.
    private static List<ToolCall>? ToolUses(JsonElement content)
    {
        List<ToolCall>? calls = null;
        foreach (var block in content.EnumerateArray())
        {
            if (block.String("type") == "tool_use")
            {
                if (block.String("id") is not { } id || block.String("name") is not { } name)
                {
                    throw new VendorFormatException("a tool_use block has no id or name");
                }

                (calls ??= []).Add(new ToolCall(id, name, block.Child("input") is { ValueKind: JsonValueKind.Object } input ? input.GetRawText() : "{}"));
            }
        }

        return calls;
    }

    // "tools": [{"name", "description", "input_schema", "strict"}]; "tool_choice": {"type": auto | any | none | tool, "name",
    // "disable_parallel_tool_use"}.
    private static void WriteTools(Utf8JsonWriter json, VendorRequest request)
    {
        json.WriteStartArray("tools");
        foreach (var tool in request.Tools!)
        {
            json.WriteStartObject();
            json.WriteString("name", tool.Name);
            if (tool.Description is { } description)
            {
                json.WriteString("description", description);
            }

            json.WritePropertyName("input_schema");
            json.WriteRawValue(tool.Parameters ?? """{"type":"object","properties":{}}""");
            if (tool.Strict)
            {
                json.WriteBoolean("strict", true);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        var serial = request.ParallelToolCalls == false;
        if (request.ToolChoice is null && !serial)
        {
            return;
        }

        var choice = request.ToolChoice ?? new ToolChoice(ToolChoice.Auto);
        json.WriteStartObject("tool_choice");
        json.WriteString("type", choice.Mode switch
        {
            ToolChoice.Required => "any",
            ToolChoice.Named => "tool",
            var mode => mode,
        });
        if (choice.Function is { } function)
        {
            json.WriteString("name", function);
        }

        if (serial && choice.Mode != ToolChoice.None)
        {
            json.WriteBoolean("disable_parallel_tool_use", true);
        }

        json.WriteEndObject();
    }

    // Messages as content blocks where a turn needs them: images ({"type": "image", "source": base64 or url}), an
    // assistant's tool_use blocks after its text, and tool turns as tool_result blocks of one user turn.
    private static void WriteMessages(Utf8JsonWriter json, VendorRequest request)
    {
        json.WriteStartArray("messages");
        var messages = request.Messages;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            json.WriteStartObject();
            if (message.Role == ChatMessage.Tool)
            {
                json.WriteString("role", ChatMessage.User);
                json.WriteStartArray("content");
                for (; i < messages.Count && messages[i].Role == ChatMessage.Tool; i++)
                {
                    json.WriteStartObject();
                    json.WriteString("type", "tool_result");
                    json.WriteString("tool_use_id", messages[i].ToolCallId);
                    json.WriteString("content", messages[i].Content);
                    json.WriteEndObject();
                }

                i--;
                json.WriteEndArray();
                json.WriteEndObject();
                continue;
            }

            json.WriteString("role", message.Role);
            if (message.Parts is null && message.ToolCalls is null)
            {
                json.WriteString("content", message.Content);
                json.WriteEndObject();
                continue;
            }

            json.WriteStartArray("content");
            foreach (var part in message.Parts ?? (message.Content.Length > 0 ? [new ContentPart(message.Content, null)] : []))
            {
                WriteBlock(json, part);
            }

            foreach (var call in message.ToolCalls ?? [])
            {
                json.WriteStartObject();
                json.WriteString("type", "tool_use");
                json.WriteString("id", call.Id);
                json.WriteString("name", call.Name);
                json.WritePropertyName("input");
                json.WriteRawValue(call.Arguments);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteBlock(Utf8JsonWriter json, ContentPart part)
    {
        json.WriteStartObject();
        if (part.Image is { } image)
        {
            json.WriteString("type", "image");
            json.WriteStartObject("source");
            if (image.Base64Data is { } data)
            {
                json.WriteString("type", "base64");
                json.WriteString("media_type", image.MediaType);
                json.WriteString("data", data);
            }
            else
            {
                json.WriteString("type", "url");
                json.WriteString("url", image.Url);
            }

            json.WriteEndObject();
        }
        else
        {
            json.WriteString("type", "text");
            json.WriteString("text", part.Text);
        }

        json.WriteEndObject();
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
    /// message_start (model, input tokens), content_block_start (a tool_use block's id and name), content_block_delta
    /// (text, or a tool call's input_json_delta), content_block_stop, message_delta (stop reason, final output tokens),
    /// message_stop; an error event can arrive mid-stream.
    /// </summary>
    private sealed class StreamReader : IVendorStreamReader
    {
        // A tool_use block's index → its place among the answer's tool calls, and whether its arguments have begun.
        private Dictionary<int, (int Call, bool HasArguments)>? _toolUses;

        /// <summary>
        /// A <c>content_block_delta</c> — most of a stream's events — says nothing of usage, model or finish unless it
        /// continues a tool call's arguments, which <see cref="Read"/> follows from event to event: a text delta is only
        /// checked to be JSON and to be no <c>input_json_delta</c> (the last <c>delta</c> and its last <c>type</c>, as a
        /// document reads them), without a document or its strings. Every other event, or one that does not read so, is
        /// read whole by <see cref="Read"/>.
        /// </summary>
        public StreamUpdate ReadUsage(string? eventName, ReadOnlySpan<byte> data, string? model)
            => eventName == "content_block_delta" && IsTextDelta(data) ? StreamUpdate.Nothing : StreamUpdate.UsageOf(Read(eventName, data));

        // A well-formed UTF-8 object whose last delta is not an object with "input_json_delta" as its last type.
        private static bool IsTextDelta(ReadOnlySpan<byte> data)
        {
            if (!Utf8.IsValid(data))
            {
                return false;
            }

            var reader = new Utf8JsonReader(data);
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    return false;
                }

                var toolInput = false;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isDelta = reader.ValueTextEquals("delta"u8);
                    reader.Read();
                    if (isDelta)
                    {
                        toolInput = false;
                        if (reader.TokenType == JsonTokenType.StartObject)
                        {
                            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                            {
                                var isType = reader.ValueTextEquals("type"u8);
                                reader.Read();
                                if (isType)
                                {
                                    toolInput = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("input_json_delta"u8);
                                }

                                reader.Skip();
                            }
                        }
                    }

                    // The rest of this value (nothing left of a delta object read above).
                    reader.Skip();
                }

                return reader.TokenType == JsonTokenType.EndObject && !toolInput;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        public StreamUpdate Read(string? eventName, ReadOnlySpan<byte> data)
        {
            switch (eventName)
            {
                case "ping":
                    return StreamUpdate.Nothing;
                case "content_block_start" or "content_block_stop" when _toolUses is null && data.IndexOf("\"tool_use\""u8) < 0:
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
                case "content_block_start":
                    var block = root.Child("content_block");
                    if (block.String("type") != "tool_use")
                    {
                        return StreamUpdate.Nothing;
                    }

                    _toolUses ??= [];
                    var call = _toolUses.Count;
                    if (!_toolUses.TryAdd(root.Int("index") ?? -1, (call, false)) || block.String("id") is not { } id || block.String("name") is not { } name)
                    {
                        throw new VendorFormatException("a tool_use block start repeats an index or lacks the call's id or name");
                    }

                    return new StreamUpdate(ToolCalls: [new ToolCallDelta(call, id, name, "")]);
                case "content_block_delta":
                    var delta = root.Child("delta");
                    switch (delta.String("type"))
                    {
                        case "text_delta":
                            return new StreamUpdate(Delta: delta.String("text"));
                        case "input_json_delta" when _toolUses is not null && _toolUses.TryGetValue(root.Int("index") ?? -1, out var use):
                            var json = delta.String("partial_json");
                            if (string.IsNullOrEmpty(json))
                            {
                                return StreamUpdate.Nothing;
                            }

                            _toolUses[root.Int("index")!.Value] = (use.Call, true);
                            return new StreamUpdate(ToolCalls: [new ToolCallDelta(use.Call, null, null, json)]);
                        case "input_json_delta":
                            throw new VendorFormatException("an input_json_delta continues no tool_use block");
                        default:
                            return StreamUpdate.Nothing;
                    }

                case "content_block_stop":
                    // A call without arguments streams none: its arguments are the empty object, as in a whole answer.
                    return _toolUses is not null && _toolUses.TryGetValue(root.Int("index") ?? -1, out var ended) && !ended.HasArguments
                        ? new StreamUpdate(ToolCalls: [new ToolCallDelta(ended.Call, null, null, "{}")])
                        : StreamUpdate.Nothing;
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
