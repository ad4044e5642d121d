using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Gateway.Transforms.Schema;

namespace Gateway.Transforms.Vendors.OpenAi;

/// <summary>OpenAI Chat Completions (<c>POST /v1/chat/completions</c>, <c>Authorization: Bearer</c>).</summary>
public sealed class OpenAiVendor : IVendorAdapter
{
    public const string VendorName = "openai";

    private static readonly ChatRequestShape Shape = new("max_completion_tokens", SystemAsMessage: true, HasJsonMode: true, AsksForStreamUsage: true,
        WriteJsonSchema: static (json, schema) =>
        {
            // {"response_format": {"type": "json_schema", "json_schema": {"name", "schema", "strict"}}}
            json.WriteStartObject("response_format");
            json.WriteString("type", "json_schema");
            json.WriteStartObject("json_schema");
            json.WriteString("name", schema.Name);
            json.WritePropertyName("schema");
            json.WriteRawValue(schema.Schema);
            json.WriteBoolean("strict", schema.Strict);
            json.WriteEndObject();
            json.WriteEndObject();
        },
        WriteTools: static (json, request) =>
        {
            VendorJson.WriteFunctionTools(json, request.Tools!, strictPerTool: true);
            switch (request.ToolChoice)
            {
                case { Mode: ToolChoice.Named, Function: { } function }:
                    json.WriteStartObject("tool_choice");
                    json.WriteString("type", "function");
                    json.WriteStartObject("function");
                    json.WriteString("name", function);
                    json.WriteEndObject();
                    json.WriteEndObject();
                    break;
                case { Mode: var mode }:
                    json.WriteString("tool_choice", mode);
                    break;
            }

            if (request.ParallelToolCalls is { } parallel)
            {
                json.WriteBoolean("parallel_tool_calls", parallel);
            }
        });

    // Chat completions: top_p, stop (up to 4), seed, response_format json_object and json_schema.
    public ChatFeatures Features { get; } = new(Seed: true, JsonMode: true, MaxStop: 4, JsonSchema: true);

    public string Name => VendorName;

    public IReadOnlyList<string> CredentialHeaders => BearerAuth.Headers;

    public string ChatPath => "/v1/chat/completions";

    public string? EmbeddingsPath => "/v1/embeddings";

    public bool EmbeddingDimensions => true;

    // {"model", "input": [...], "encoding_format": "float", "dimensions"}: floats, so the gateway can write either encoding.
    public byte[] WriteEmbeddingsRequest(EmbeddingsRequest request) => VendorJson.Write(json =>
    {
        json.WriteString("model", request.Model);
        VendorJson.WriteStrings(json, "input", request.Inputs);
        json.WriteString("encoding_format", "float");
        if (request.Dimensions is { } dimensions)
        {
            json.WriteNumber("dimensions", dimensions);
        }
    });

    // {"object": "list", "data": [{"object": "embedding", "index", "embedding": [...]}], "model", "usage": {"prompt_tokens", "total_tokens"}}
    public EmbeddingsResponse ReadEmbeddingsResponse(ReadOnlyMemory<byte> body)
    {
        using var document = VendorJson.Parse(body);
        var root = document.RootElement;
        var data = root.Child("data");
        if (data.ValueKind != JsonValueKind.Array)
        {
            throw new VendorFormatException("the embeddings answer has no data");
        }

        var vectors = new float[data.GetArrayLength()][];
        foreach (var item in data.EnumerateArray())
        {
            var index = item.Int("index") ?? -1;
            if (index < 0 || index >= vectors.Length || vectors[index] is not null)
            {
                throw new VendorFormatException("the embeddings answer's indexes are not 0 to n-1");
            }

            vectors[index] = VendorJson.Vector(item.Child("embedding"), "an embedding");
        }

        return new EmbeddingsResponse(root.String("model"), vectors, Usage(root.Child("usage")));
    }

    public double MaxTemperature => 2.0;

    public void ApplyCredentials(HttpRequestHeaders headers, string apiKey) => BearerAuth.Apply(headers, apiKey);

    public byte[] WriteRequest(VendorRequest request) => VendorJson.WriteChatRequest(request, Shape);

    public VendorResponse ReadResponse(ReadOnlyMemory<byte> body)
    {
        using var document = VendorJson.Parse(body);
        var root = document.RootElement;
        var choices = root.Child("choices");
        if (choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            throw new VendorFormatException("the response has no choices");
        }

        var choice = choices[0];
        var message = choice.Child("message");
        var refusal = message.String("refusal");
        var finish = MapFinish(choice.String("finish_reason"));
        return new VendorResponse(
            root.String("id"),
            root.String("model"),
            message.String("content") ?? "",
            refusal is not null ? FinishReasons.ContentFilter : finish ?? FinishReasons.Stop,
            Usage(root.Child("usage")),
            refusal,
            VendorJson.ToolCalls(message));
    }

    public string? ReadErrorMessage(ReadOnlySpan<byte> body) => VendorJson.ErrorMessage(body);

    public void WriteErrorMembers(Utf8JsonWriter json, int status, string code, string message) => VendorJson.WriteOpenAiStyleError(json, status, code, message);

    // {"error": {"code": "invalid_api_key", ...}}: "Incorrect API key provided" (wrong, revoked or deleted key).
    public bool RejectsKey(ReadOnlySpan<byte> body) => VendorJson.ErrorField(body, "code") == "invalid_api_key";

    public IVendorStreamReader CreateStreamReader() => new StreamReader();

    // Chat completions and embeddings (prompt_tokens…) and Responses (input_tokens…) all put usage and model at the top.
    public PassthroughUsage ReadUsage(ReadOnlySpan<byte> body) => VendorJson.TopLevelUsage(body);

    // Model calls, embeddings, moderation, models, Responses (with its token count); not files, batches, fine-tuning,
    // vector stores, stored completions/responses, organization or admin: a route enables those explicitly.
    public PassthroughProfile Passthrough { get; } = new(
        PassthroughRule.List(
            "POST /v1/chat/completions", "POST /v1/completions", "POST /v1/embeddings", "POST /v1/moderations",
            "POST /v1/responses", "POST /v1/responses/input_tokens", "GET /v1/models/**"),
        RequestHeaders: ["OpenAI-Beta", "X-Client-Request-Id"],
        RequestHeaderPrefixes: ["x-stainless-"],
        ConfiguredOnlyHeaders: ["OpenAI-Organization", "OpenAI-Project"],
        ResponseHeadersDropped: ["openai-organization", "openai-project"]);

    // retry-after-ms (the SDKs' own, most precise), else Retry-After; past those, an exhausted limit's reset
    // (x-ratelimit-remaining-requests: 0 → x-ratelimit-reset-requests: "6m0s").
    public TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (VendorHeaders.Single(headers, "retry-after-ms") is { } ms && double.TryParse(ms, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }

        if (RetryAfterHeader.Read(headers, now) is { } standard)
        {
            return standard;
        }

        TimeSpan? wait = null;
        foreach (var limit in (ReadOnlySpan<string>)["requests", "tokens"])
        {
            if (VendorHeaders.Single(headers, "x-ratelimit-remaining-" + limit) == "0"
                && VendorHeaders.Duration(VendorHeaders.Single(headers, "x-ratelimit-reset-" + limit)) is { } reset && (wait is null || reset > wait))
            {
                wait = reset;
            }
        }

        return wait;
    }

    public string? PassthroughOperation(string method, string path) => !HttpMethods.IsPost(method) ? null : path switch
    {
        "/v1/chat/completions" or "/v1/responses" => GenAiOperations.Chat,
        "/v1/embeddings" => GenAiOperations.Embeddings,
        "/v1/completions" => GenAiOperations.TextCompletion,
        _ => null,
    };

    private static TokenUsage? Usage(JsonElement usage) => VendorJson.Counts(usage);

    private static string? MapFinish(string? reason) => reason switch
    {
        null => null,
        "stop" => FinishReasons.Stop,
        "length" => FinishReasons.Length,
        "content_filter" => FinishReasons.ContentFilter,
        "tool_calls" or "function_call" => FinishReasons.ToolCalls,
        _ => FinishReasons.Stop,
    };

    /// <summary>
    /// Chat completions: <c>data: {chunk}</c> events, then <c>data: [DONE]</c>; usage arrives in a last chunk with no
    /// choices. Responses (passthrough): typed events, text in <c>response.output_text.delta</c>, usage and model in the
    /// final <c>response.completed</c> (or <c>.incomplete</c>, <c>.failed</c>).
    /// </summary>
    private sealed class StreamReader : IVendorStreamReader
    {
        /// <summary>
        /// A chat completion chunk, read for the usage tap in one pass without building a document or a string per
        /// event (the model is handed back as <paramref name="model"/> when the chunk names it again): the top-level
        /// usage and model, and the first choice's finish reason, as <see cref="Read"/> takes them. Anything else — a
        /// named or typed (Responses) event, an error, a chunk with tool call pieces, a body that is not an object — is
        /// read whole by <see cref="Read"/>.
        /// </summary>
        public StreamUpdate ReadUsage(string? eventName, ReadOnlySpan<byte> data, string? model)
        {
            // Not UTF-8: refused by the whole reading as it would be here (no string of it is made here to find out).
            if (eventName is not null || data.SequenceEqual("[DONE]"u8) || !Utf8.IsValid(data))
            {
                return StreamUpdate.UsageOf(Read(eventName, data));
            }

            var reader = new Utf8JsonReader(data);
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    return StreamUpdate.UsageOf(Read(eventName, data));
                }

                TokenUsage? usage = null;
                string? named = null;
                string? finish = null;
                // As a document reads a property named twice: the last one.
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("type"u8) || reader.ValueTextEquals("error"u8))
                    {
                        return StreamUpdate.UsageOf(Read(eventName, data));
                    }

                    var property = reader.ValueTextEquals("model"u8) ? 1 : reader.ValueTextEquals("usage"u8) ? 2 : reader.ValueTextEquals("choices"u8) ? 3 : 0;
                    reader.Read();
                    switch (property)
                    {
                        case 1:
                            named = reader.TokenType != JsonTokenType.String ? null
                                : model is not null && reader.ValueTextEquals(model) ? model : reader.GetString();
                            break;
                        case 2:
                            usage = reader.TokenType == JsonTokenType.StartObject ? VendorJson.ReadCounts(ref reader) : null;
                            break;
                        case 3 when reader.TokenType == JsonTokenType.StartArray:
                            if (!FirstChoiceFinish(ref reader, out finish))
                            {
                                return StreamUpdate.UsageOf(Read(eventName, data));
                            }

                            break;
                        case 3:
                            finish = null;
                            break;
                    }

                    // The rest of this value (all of it, for any other property; nothing left for one read above).
                    reader.Skip();
                }

                return new StreamUpdate(InputTokens: usage?.InputTokens, OutputTokens: usage?.OutputTokens, FinishReason: finish, Model: named);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                throw new VendorFormatException("the vendor's event is not valid JSON (" + ex.Message + ")");
            }
        }

        // The first choice's finish reason, the reader at the start of the choices array (left at its end). False when the
        // choice carries tool call pieces, which only a whole read can judge.
        private static bool FirstChoiceFinish(ref Utf8JsonReader reader, out string? finish)
        {
            finish = null;
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isFinish = reader.ValueTextEquals("finish_reason"u8);
                    var isDelta = !isFinish && reader.ValueTextEquals("delta"u8);
                    reader.Read();
                    if (isFinish)
                    {
                        finish = reader.TokenType == JsonTokenType.String ? FinishOf(ref reader) : null;
                    }
                    else if (isDelta && reader.TokenType == JsonTokenType.StartObject)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("tool_calls"u8))
                            {
                                return false;
                            }

                            reader.Read();
                            reader.Skip();
                        }
                    }

                    reader.Skip();
                }
            }
            else if (reader.TokenType != JsonTokenType.EndArray)
            {
                reader.Skip();
            }

            // The other choices, unread.
            while (reader.TokenType != JsonTokenType.EndArray && reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                reader.Skip();
            }

            return true;
        }

        // MapFinish on the reader's string, without making it.
        private static string FinishOf(ref Utf8JsonReader reader)
            => reader.ValueTextEquals("length"u8) ? FinishReasons.Length
                : reader.ValueTextEquals("content_filter"u8) ? FinishReasons.ContentFilter
                : reader.ValueTextEquals("tool_calls"u8) || reader.ValueTextEquals("function_call"u8) ? FinishReasons.ToolCalls
                : FinishReasons.Stop;

        public StreamUpdate Read(string? eventName, ReadOnlySpan<byte> data)
        {
            if (data.SequenceEqual("[DONE]"u8))
            {
                return new StreamUpdate(Completed: true);
            }

            using var document = VendorJson.Parse(data);
            var root = document.RootElement;
            if ((eventName ?? root.String("type")) is { } type && (type.StartsWith("response.", StringComparison.Ordinal) || type == "error"))
            {
                return ResponsesEvent(type, root);
            }

            if (root.Child("error") is { ValueKind: JsonValueKind.Object } error)
            {
                return new StreamUpdate(Error: error.String("message") ?? "the vendor reported an error mid-stream");
            }

            string? delta = null;
            string? finish = null;
            string? refusal = null;
            List<ToolCallDelta>? toolCalls = null;
            if (root.Child("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0)
            {
                var choice = choices[0];
                var content = choice.Child("delta");
                delta = content.String("content");
                refusal = content.String("refusal");
                finish = MapFinish(choice.String("finish_reason"));
                toolCalls = ToolCallDeltas(content);
            }

            var usage = Usage(root.Child("usage"));
            return new StreamUpdate(
                Delta: string.IsNullOrEmpty(delta) ? null : delta,
                InputTokens: usage?.InputTokens,
                OutputTokens: usage?.OutputTokens,
                FinishReason: finish,
                Model: root.String("model"),
                Id: root.String("id"),
                Refusal: string.IsNullOrEmpty(refusal) ? null : refusal,
                ToolCalls: toolCalls);
        }

        // "delta": {"tool_calls": [{"index", "id", "type", "function": {"name", "arguments"}}]}: the id and name on a call's first piece.
        private static List<ToolCallDelta>? ToolCallDeltas(JsonElement delta)
        {
            if (delta.Child("tool_calls") is not { ValueKind: JsonValueKind.Array } calls || calls.GetArrayLength() == 0)
            {
                return null;
            }

            var pieces = new List<ToolCallDelta>(calls.GetArrayLength());
            foreach (var call in calls.EnumerateArray())
            {
                var function = call.Child("function");
                pieces.Add(new ToolCallDelta(call.Int("index") ?? throw new VendorFormatException("a tool call delta has no index"),
                    call.String("id"), function.String("name"), function.String("arguments")));
            }

            return pieces;
        }

        private static StreamUpdate ResponsesEvent(string type, JsonElement root)
        {
            var response = root.Child("response");
            switch (type)
            {
                case "response.output_text.delta":
                    return new StreamUpdate(Delta: root.String("delta"));
                case "response.refusal.delta":
                    return new StreamUpdate(Refusal: root.String("delta"));
                case "response.created" or "response.in_progress":
                    return new StreamUpdate(Model: response.String("model"), Id: response.String("id"));
                case "response.completed" or "response.incomplete" or "response.failed":
                    var usage = VendorJson.Counts(response.Child("usage"));
                    return new StreamUpdate(
                        InputTokens: usage?.InputTokens,
                        OutputTokens: usage?.OutputTokens,
                        FinishReason: type == "response.incomplete" ? FinishReasons.Length : type == "response.failed" ? FinishReasons.Error : FinishReasons.Stop,
                        Model: response.String("model"),
                        Id: response.String("id"),
                        Completed: true,
                        Error: type == "response.failed" ? response.Child("error").String("message") ?? "the response failed" : null);
                case "error":
                    return new StreamUpdate(Error: root.String("message") ?? "the vendor reported an error mid-stream");
                default:
                    return StreamUpdate.Nothing;
            }
        }
    }
}
