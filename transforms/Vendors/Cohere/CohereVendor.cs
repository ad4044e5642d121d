using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Gateway.Transforms.Schema;

namespace Gateway.Transforms.Vendors.Cohere;

/// <summary>Cohere Chat v2 (<c>POST /v2/chat</c>, <c>Authorization: Bearer</c>).</summary>
public sealed class CohereVendor : IVendorAdapter
{
    public const string VendorName = "cohere";

    private static readonly ChatRequestShape Shape = new("max_tokens", SystemAsMessage: true, HasJsonMode: true, AsksForStreamUsage: false,
        TopPField: "p", StopField: "stop_sequences",
        WriteJsonSchema: static (json, schema) =>
        {
            // {"response_format": {"type": "json_object", "json_schema": {...}}}: JSON mode held to the schema.
            json.WriteStartObject("response_format");
            json.WriteString("type", "json_object");
            json.WritePropertyName("json_schema");
            json.WriteRawValue(schema.Schema);
            json.WriteEndObject();
        },
        WriteTools: static (json, request) =>
        {
            // OpenAI's function tools; strictness for all tools at once; tool_choice NONE or REQUIRED (auto is the default).
            VendorJson.WriteFunctionTools(json, request.Tools!, strictPerTool: false);
            if (request.Tools!.All(t => t.Strict))
            {
                json.WriteBoolean("strict_tools", true);
            }

            if (request.ToolChoice?.Mode is ToolChoice.None or ToolChoice.Required)
            {
                json.WriteString("tool_choice", request.ToolChoice.Mode == ToolChoice.None ? "NONE" : "REQUIRED");
            }
        },
        ToolPlanField: "tool_plan");

    // Chat v2: p, stop_sequences (up to 5), seed, response_format json_object (with a json_schema or not); tools with
    // tool_choice NONE or REQUIRED (no named function, no serial calls) and strict_tools for all; image_url parts.
    public ChatFeatures Features { get; } = new(Seed: true, JsonMode: true, MaxStop: 5, JsonSchema: true,
        NamedToolChoice: false, SerialToolCalls: false, StrictPerTool: false);

    public string Name => VendorName;

    public IReadOnlyList<string> CredentialHeaders => BearerAuth.Headers;

    public string ChatPath => "/v2/chat";

    public string? EmbeddingsPath => "/v2/embed";

    public bool EmbeddingDimensions => true;

    // v2 embed: texts, an input type (required by v3+ models: stored documents unless told otherwise), float vectors.
    public byte[] WriteEmbeddingsRequest(EmbeddingsRequest request) => VendorJson.Write(json =>
    {
        json.WriteString("model", request.Model);
        VendorJson.WriteStrings(json, "texts", request.Inputs);
        json.WriteString("input_type", "search_document");
        VendorJson.WriteStrings(json, "embedding_types", ["float"]);
        if (request.Dimensions is { } dimensions)
        {
            json.WriteNumber("output_dimension", dimensions);
        }
    });

    // {"id", "embeddings": {"float": [[...], ...]}, "texts": [...], "meta": {"billed_units": {"input_tokens"}}}
    public EmbeddingsResponse ReadEmbeddingsResponse(ReadOnlyMemory<byte> body)
    {
        using var document = VendorJson.Parse(body);
        var root = document.RootElement;
        var floats = root.Child("embeddings").Child("float");
        if (floats.ValueKind != JsonValueKind.Array)
        {
            throw new VendorFormatException("the embed answer has no float embeddings");
        }

        return new EmbeddingsResponse(null, [.. floats.EnumerateArray().Select(v => VendorJson.Vector(v, "an embedding"))],
            VendorJson.Counts(root.Child("meta").Child("billed_units")));
    }

    public double MaxTemperature => 1.0;

    public void ApplyCredentials(HttpRequestHeaders headers, string apiKey) => BearerAuth.Apply(headers, apiKey);

    public byte[] WriteRequest(VendorRequest request) => VendorJson.WriteChatRequest(request, Shape);

    public VendorResponse ReadResponse(ReadOnlyMemory<byte> body)
    {
        using var document = VendorJson.Parse(body);
        var root = document.RootElement;
        var message = root.Child("message");
        if (message.ValueKind != JsonValueKind.Object || root.String("finish_reason") is null)
        {
            throw new VendorFormatException("the response has no message or finish_reason");
        }

        // The text beside tool calls is the model's tool_plan.
        var text = VendorJson.TextBlocks(message.Child("content"));
        return new VendorResponse(root.String("id"), Model: null, text.Length == 0 ? message.String("tool_plan") ?? "" : text, MapFinish(root.String("finish_reason")),
            Usage(root.Child("usage")), ToolCalls: VendorJson.ToolCalls(message));
    }

    public string? ReadErrorMessage(ReadOnlySpan<byte> body) => VendorJson.ErrorMessage(body);

    public void WriteErrorMembers(Utf8JsonWriter json, int status, string code, string message) => VendorJson.WriteOpenAiStyleError(json, status, code, message);

    // {"message": "invalid api token"}: Cohere's 401 names the token.
    public bool RejectsKey(ReadOnlySpan<byte> body)
        => VendorJson.ErrorMessage(body) is { } message && (message.Contains("api token", StringComparison.OrdinalIgnoreCase) || message.Contains("api key", StringComparison.OrdinalIgnoreCase));

    public IVendorStreamReader CreateStreamReader() => new StreamReader();

    // v2 chat: usage.billed_units (or usage.tokens); embed, rerank and v1 chat: meta.billed_units. No model in answers.
    public PassthroughUsage ReadUsage(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = VendorJson.Parse(body);
            var root = document.RootElement;
            return new PassthroughUsage(Usage(root.Child("usage")) ?? VendorJson.Counts(root.Child("meta").Child("billed_units")), root.String("model"));
        }
        catch (VendorFormatException)
        {
            return default;
        }
    }

    // Chat, embed and rerank (v2 and v1), tokenizing and models; not datasets, connectors, embed jobs or fine-tuning.
    public PassthroughProfile Passthrough { get; } = new(
        PassthroughRule.List(
            "POST /v2/chat", "POST /v1/chat", "POST /v2/embed", "POST /v1/embed", "POST /v2/rerank", "POST /v1/rerank",
            "POST /v1/tokenize", "POST /v1/detokenize", "GET /v1/models/**"),
        RequestHeaders: ["X-Client-Name"],
        RequestHeaderPrefixes: ["x-fern-"],
        ConfiguredOnlyHeaders: [],
        ResponseHeadersDropped: []);

    public string? PassthroughOperation(string method, string path) => !HttpMethods.IsPost(method) ? null : path switch
    {
        "/v2/chat" or "/v1/chat" => GenAiOperations.Chat,
        "/v2/embed" or "/v1/embed" => GenAiOperations.Embeddings,
        _ => null,
    };

    // billed_units is what Cohere charges for; tokens (which adds its prompt template) is the fallback.
    private static TokenUsage? Usage(JsonElement usage)
    {
        foreach (var name in (ReadOnlySpan<string>)["billed_units", "tokens"])
        {
            var counts = usage.Child(name);
            if (counts.Int("input_tokens") is { } input)
            {
                return new TokenUsage(input, counts.Int("output_tokens") ?? 0);
            }
        }

        return null;
    }

    private static string MapFinish(string? reason) => reason switch
    {
        "COMPLETE" or "STOP_SEQUENCE" => FinishReasons.Stop,
        "MAX_TOKENS" => FinishReasons.Length,
        "TOOL_CALL" => FinishReasons.ToolCalls,
        "ERROR" or "ERROR_TOXIC" or "ERROR_LIMIT" => FinishReasons.Error,
        _ => FinishReasons.Stop,
    };

    /// <summary>
    /// message-start, content-start, content-delta (text), content-end; tool-plan-delta (the text beside tool calls),
    /// tool-call-start (id, name), tool-call-delta (arguments), tool-call-end; message-end (finish reason and usage).
    /// </summary>
    private sealed class StreamReader : IVendorStreamReader
    {
        // Cohere's index of each tool call → its place among the answer's tool calls.
        private Dictionary<int, int>? _toolCalls;

        /// <summary>
        /// A named event that says nothing of usage, model or finish whatever it holds — the text and tool plan deltas that
        /// make up most of a stream, the starts and ends of content — is only checked to be JSON, as <see cref="Read"/>
        /// parses it (and throws where it would not parse), without a document or its strings. The message's end and the
        /// tool call events (which <see cref="Read"/> follows from event to event) are read whole.
        /// </summary>
        public StreamUpdate ReadUsage(string? eventName, ReadOnlySpan<byte> data, string? model)
            => eventName is null or "message-end" or "tool-call-start" or "tool-call-delta" || !VendorJson.IsValue(data)
                ? StreamUpdate.UsageOf(Read(eventName, data))
                : StreamUpdate.Nothing;

        public StreamUpdate Read(string? eventName, ReadOnlySpan<byte> data)
        {
            using var document = VendorJson.Parse(data);
            var root = document.RootElement;
            switch (eventName ?? root.String("type"))
            {
                case "message-start":
                    return new StreamUpdate(Id: root.String("id"));
                case "content-delta":
                    return new StreamUpdate(Delta: root.Child("delta").Child("message").Child("content").String("text"));
                case "tool-plan-delta":
                    return new StreamUpdate(Delta: root.Child("delta").Child("message").String("tool_plan"));
                case "tool-call-start":
                    var started = root.Child("delta").Child("message").Child("tool_calls");
                    _toolCalls ??= [];
                    var index = _toolCalls.Count;
                    if (!_toolCalls.TryAdd(root.Int("index") ?? index, index) || started.String("id") is not { } id || started.Child("function").String("name") is not { } name)
                    {
                        throw new VendorFormatException("a tool-call-start event repeats an index or lacks the call's id or name");
                    }

                    return new StreamUpdate(ToolCalls: [new ToolCallDelta(index, id, name, started.Child("function").String("arguments"))]);
                case "tool-call-delta":
                    if (_toolCalls is null || !_toolCalls.TryGetValue(root.Int("index") ?? -1, out var call))
                    {
                        throw new VendorFormatException("a tool-call-delta event continues no started tool call");
                    }

                    var arguments = root.Child("delta").Child("message").Child("tool_calls").Child("function").String("arguments");
                    return string.IsNullOrEmpty(arguments) ? StreamUpdate.Nothing : new StreamUpdate(ToolCalls: [new ToolCallDelta(call, null, null, arguments)]);
                case "message-end":
                    var delta = root.Child("delta");
                    var usage = Usage(delta.Child("usage"));
                    var finish = MapFinish(delta.String("finish_reason"));
                    return new StreamUpdate(InputTokens: usage?.InputTokens, OutputTokens: usage?.OutputTokens, FinishReason: finish, Completed: true,
                        Error: finish == FinishReasons.Error ? delta.Child("error").String("message") ?? "the model stopped with an error" : null);
                default:
                    return StreamUpdate.Nothing;
            }
        }
    }
}
