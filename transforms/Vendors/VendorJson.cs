using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Unicode;
using Gateway.Transforms.Http;
using Gateway.Transforms.Schema;

namespace Gateway.Transforms.Vendors;

/// <summary>How a vendor spells the shared parts of a chat request.</summary>
/// <param name="MaxTokensField">The output-token limit's field.</param>
/// <param name="SystemAsMessage">System instruction as the first message (else a top-level <c>system</c>).</param>
/// <param name="HasJsonMode">Whether <c>response_format: json_object</c> exists.</param>
/// <param name="AsksForStreamUsage">Whether usage must be asked for in a stream (<c>stream_options.include_usage</c>).</param>
/// <param name="WriteTools">Writes the request's tools, tool choice and parallelism (called only when it has tools).</param>
/// <param name="WriteMessages">Writes <c>messages</c> the vendor's own way; null for OpenAI's (<see cref="VendorJson.WriteMessages"/>).</param>
/// <param name="ToolPlanField">Where an assistant turn's text beside its tool calls goes, when not in <c>content</c> (Cohere's <c>tool_plan</c>).</param>
internal readonly record struct ChatRequestShape(string MaxTokensField, bool SystemAsMessage, bool HasJsonMode, bool AsksForStreamUsage,
    string TopPField = "top_p", string StopField = "stop", string? SeedField = "seed", Action<Utf8JsonWriter, JsonSchemaFormat>? WriteJsonSchema = null,
    Action<Utf8JsonWriter, VendorRequest>? WriteTools = null, Action<Utf8JsonWriter, VendorRequest>? WriteMessages = null, string? ToolPlanField = null);

/// <summary><c>Authorization: Bearer</c> keys (OpenAI, Cohere).</summary>
internal static class BearerAuth
{
    public static readonly string[] Headers = ["Authorization"];

    // The header value of the key used last: the same key call after call makes no new string; a rotated or another key
    // makes its own, which becomes the last.
    private static Credential? _last;

    public static void Apply(System.Net.Http.Headers.HttpRequestHeaders headers, string apiKey)
    {
        var last = Volatile.Read(ref _last);
        if (last is null || !string.Equals(last.Key, apiKey, StringComparison.Ordinal))
        {
            last = new Credential(apiKey, "Bearer " + apiKey);
            Volatile.Write(ref _last, last);
        }

        headers.TryAddWithoutValidation("Authorization", last.Value);
    }

    // Not a record: its text would show the key.
    private sealed class Credential(string key, string value)
    {
        public string Key { get; } = key;

        public string Value { get; } = value;
    }
}

/// <summary>JSON helpers shared by the adapters.</summary>
internal static class VendorJson
{
    /// <summary>
    /// The chat request body the three vendors share the shape of: model, messages, an output-token limit, temperature,
    /// JSON mode and streaming, each spelt the vendor's way.
    /// </summary>
    public static byte[] WriteChatRequest(VendorRequest request, ChatRequestShape shape) => Write((request, shape), static (json, state) =>
    {
        var (request, shape) = state;
        json.WriteString("model", request.Model);
        json.WriteNumber(shape.MaxTokensField, request.MaxTokens);
        if (!shape.SystemAsMessage && request.System is not null)
        {
            json.WriteString("system", request.System);
        }

        if (shape.WriteMessages is { } writeMessages)
        {
            writeMessages(json, request);
        }
        else
        {
            WriteMessages(json, request, shape.SystemAsMessage, shape.ToolPlanField);
        }

        if (request.Tools is { Count: > 0 } && shape.WriteTools is { } writeTools)
        {
            writeTools(json, request);
        }

        if (request.Temperature is { } temperature)
        {
            json.WriteNumber("temperature", temperature);
        }

        if (request.TopP is { } topP)
        {
            json.WriteNumber(shape.TopPField, topP);
        }

        if (request.Stop is { Count: > 0 } stop)
        {
            WriteStrings(json, shape.StopField, stop);
        }

        if (request.Seed is { } seed && shape.SeedField is { } seedField)
        {
            json.WriteNumber(seedField, seed);
        }

        if (request.JsonSchema is { } schema && shape.WriteJsonSchema is { } writeSchema)
        {
            writeSchema(json, schema);
        }
        else if (request.Json && shape.HasJsonMode)
        {
            json.WriteStartObject("response_format");
            json.WriteString("type", "json_object");
            json.WriteEndObject();
        }

        if (request.Stream)
        {
            json.WriteBoolean("stream", true);
            if (shape.AsksForStreamUsage)
            {
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }
        }

        // Configuration's fields for the model; one the caller set too (top_p, stop, seed) is the caller's.
        foreach (var (name, value) in request.ExtraFields ?? [])
        {
            if ((request.TopP is not null && name == shape.TopPField) || (request.Stop is { Count: > 0 } && name == shape.StopField)
                || (request.Seed is not null && name == shape.SeedField))
            {
                continue;
            }

            json.WritePropertyName(name);
            json.WriteRawValue(value);
        }
    });

    /// <summary>Fields of a chat request the gateway writes itself; configuration cannot add them as extra fields.</summary>
    public static readonly IReadOnlyList<string> ReservedFields =
        ["model", "messages", "system", "max_tokens", "max_completion_tokens", "temperature", "response_format", "stream", "stream_options",
         "tools", "tool_choice", "parallel_tool_calls", "strict_tools"];

    /// <summary>The concatenated text of an array of content blocks (<c>{"type": "text", "text": …}</c>).</summary>
    public static string TextBlocks(JsonElement blocks)
    {
        if (blocks.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var text = new System.Text.StringBuilder();
        foreach (var block in blocks.EnumerateArray())
        {
            if (block.String("type") == "text")
            {
                text.Append(block.String("text"));
            }
        }

        return text.ToString();
    }

    /// <summary>Writes <c>"name": ["…", …]</c>.</summary>
    public static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    /// <summary>An array of numbers as floats; throws <see cref="VendorFormatException"/> when it is anything else.</summary>
    public static float[] Vector(JsonElement numbers, string what)
    {
        if (numbers.ValueKind != JsonValueKind.Array)
        {
            throw new VendorFormatException($"{what} is not an array of numbers");
        }

        var vector = new float[numbers.GetArrayLength()];
        var i = 0;
        foreach (var number in numbers.EnumerateArray())
        {
            if (number.ValueKind != JsonValueKind.Number || !number.TryGetSingle(out vector[i++]))
            {
                throw new VendorFormatException($"{what} holds a value that is not a number");
            }
        }

        return vector;
    }

    // One buffer and writer per thread, taken while a body is written (a body written inside another gets its own).
    [ThreadStatic]
    private static (System.Buffers.ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Json)? _writer;

    /// <summary>A JSON object written by <paramref name="write"/>, as a new array (the only allocation once the thread's writer exists).</summary>
    public static byte[] Write(Action<Utf8JsonWriter> write) => Write(write, static (json, write) => write(json));

    /// <summary>A JSON object written by <paramref name="write"/> from <paramref name="state"/> (no closure per body).</summary>
    public static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        System.Buffers.ArrayBufferWriter<byte> buffer;
        Utf8JsonWriter json;
        if (_writer is { } cached)
        {
            (buffer, json) = cached;
            _writer = null;
        }
        else
        {
            buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
            json = new Utf8JsonWriter(buffer);
        }

        buffer.ResetWrittenCount();
        json.Reset(buffer);
        try
        {
            json.WriteStartObject();
            write(json, state);
            json.WriteEndObject();
            json.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            // A buffer grown past 64 KiB (a long conversation) is not kept for the thread's later calls.
            if (buffer.Capacity <= 64 * 1024)
            {
                _writer = (buffer, json);
            }
        }
    }

    /// <summary>
    /// Writes <c>messages</c> OpenAI's way (which Cohere v2 shares): the system instruction first as a <c>system</c>
    /// message when asked; content as a string, or as text and <c>image_url</c> parts when it holds an image; an
    /// assistant turn's <c>tool_calls</c> (its text in <paramref name="toolPlanField"/> when given); a tool turn's
    /// <c>tool_call_id</c>.
    /// </summary>
    public static void WriteMessages(Utf8JsonWriter json, VendorRequest request, bool systemAsMessage, string? toolPlanField = null)
    {
        json.WriteStartArray("messages");
        if (systemAsMessage && request.System is not null)
        {
            WriteMessage(json, ChatMessage.System, request.System);
        }

        foreach (var message in request.Messages)
        {
            if (message.Parts is null && message.ToolCalls is null && message.ToolCallId is null)
            {
                WriteMessage(json, message.Role, message.Content);
            }
            else
            {
                WriteRichMessage(json, message, toolPlanField);
            }
        }

        json.WriteEndArray();
    }

    private static void WriteMessage(Utf8JsonWriter json, string role, string content)
    {
        json.WriteStartObject();
        json.WriteString("role", role);
        json.WriteString("content", content);
        json.WriteEndObject();
    }

    private static void WriteRichMessage(Utf8JsonWriter json, ChatMessage message, string? toolPlanField)
    {
        json.WriteStartObject();
        json.WriteString("role", message.Role);
        if (message.Parts is { } parts)
        {
            json.WriteStartArray("content");
            foreach (var part in parts)
            {
                json.WriteStartObject();
                if (part.Image is { } image)
                {
                    json.WriteString("type", "image_url");
                    json.WriteStartObject("image_url");
                    json.WriteString("url", image.Url);
                    if (image.Detail is { } detail)
                    {
                        json.WriteString("detail", detail);
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

            json.WriteEndArray();
        }
        else if (message.ToolCalls is not null && toolPlanField is not null)
        {
            if (message.Content.Length > 0)
            {
                json.WriteString(toolPlanField, message.Content);
            }
        }
        else if (message.ToolCalls is not null && message.Content.Length == 0)
        {
            json.WriteNull("content");
        }
        else
        {
            json.WriteString("content", message.Content);
        }

        if (message.ToolCalls is { } calls)
        {
            WriteToolCalls(json, calls);
        }

        if (message.ToolCallId is { } id)
        {
            json.WriteString("tool_call_id", id);
        }

        json.WriteEndObject();
    }

    /// <summary>Writes <c>"tool_calls": [{"id", "type": "function", "function": {"name", "arguments"}}]</c>, OpenAI's (and Cohere v2's) shape.</summary>
    public static void WriteToolCalls(Utf8JsonWriter json, IReadOnlyList<ToolCall> calls)
    {
        json.WriteStartArray("tool_calls");
        foreach (var call in calls)
        {
            json.WriteStartObject();
            json.WriteString("id", call.Id);
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", call.Name);
            json.WriteString("arguments", call.Arguments);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>
    /// Writes <c>tools</c> as OpenAI's function tools (which Cohere v2 shares):
    /// <c>[{"type": "function", "function": {"name", "description", "parameters", "strict"}}]</c>, strict only when asked.
    /// </summary>
    public static void WriteFunctionTools(Utf8JsonWriter json, IReadOnlyList<ToolDefinition> tools, bool strictPerTool)
    {
        json.WriteStartArray("tools");
        foreach (var tool in tools)
        {
            json.WriteStartObject();
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", tool.Name);
            if (tool.Description is { } description)
            {
                json.WriteString("description", description);
            }

            if (tool.Parameters is { } parameters)
            {
                json.WritePropertyName("parameters");
                json.WriteRawValue(parameters);
            }

            if (strictPerTool && tool.Strict)
            {
                json.WriteBoolean("strict", true);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>The tool calls of an OpenAI-shaped message (<c>"tool_calls": [{"id", "function": {"name", "arguments"}}]</c>; OpenAI and Cohere v2).</summary>
    public static List<ToolCall>? ToolCalls(JsonElement message)
    {
        if (message.Child("tool_calls") is not { ValueKind: JsonValueKind.Array } calls || calls.GetArrayLength() == 0)
        {
            return null;
        }

        var read = new List<ToolCall>(calls.GetArrayLength());
        foreach (var call in calls.EnumerateArray())
        {
            var function = call.Child("function");
            if (call.String("id") is not { } id || function.String("name") is not { } name)
            {
                throw new VendorFormatException("a tool call has no id or function name");
            }

            read.Add(new ToolCall(id, name, function.String("arguments") ?? "{}"));
        }

        return read;
    }

    /// <summary>
    /// A whole vendor answer as a document over its own bytes, with pooled bookkeeping (the span overload copies the
    /// bytes into arrays of its own); the bytes must outlive the document.
    /// </summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        RequireUtf8(body.Span);
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new VendorFormatException("the vendor's body is not valid JSON (" + ex.Message + ")");
        }
    }

    /// <summary>
    /// Whether <paramref name="data"/> is UTF-8 that opens with one whole, well-formed JSON value — what
    /// <see cref="Parse(ReadOnlySpan{byte})"/> takes without throwing (it reads that value and no further) — checked
    /// without building a document.
    /// </summary>
    public static bool IsValue(ReadOnlySpan<byte> data)
    {
        if (!Utf8.IsValid(data))
        {
            return false;
        }

        var reader = new Utf8JsonReader(data);
        try
        {
            return reader.Read() && reader.TrySkip();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static JsonDocument Parse(ReadOnlySpan<byte> body)
    {
        RequireUtf8(body);
        try
        {
            var reader = new Utf8JsonReader(body);
            return JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new VendorFormatException("the vendor's body is not valid JSON (" + ex.Message + ")");
        }
    }

    // JSON text is UTF-8 (RFC 8259): a document does not check the bytes of its strings, and reading one that is not would
    // throw InvalidOperationException wherever it is read — a vendor body that is not UTF-8 is refused here, as malformed.
    private static void RequireUtf8(ReadOnlySpan<byte> body)
    {
        if (!Utf8.IsValid(body))
        {
            throw new VendorFormatException("the vendor's body is not UTF-8");
        }
    }

    public static string? String(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static int? Int(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    public static JsonElement Child(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    /// <summary>
    /// The token counts of a usage object in either spelling: <c>input_tokens</c>/<c>output_tokens</c> (Anthropic,
    /// OpenAI Responses, Cohere billed units) or <c>prompt_tokens</c>/<c>completion_tokens</c> (OpenAI chat and
    /// embeddings, which report input only).
    /// </summary>
    public static TokenUsage? Counts(JsonElement usage)
    {
        var input = usage.Int("input_tokens") ?? usage.Int("prompt_tokens");
        var output = usage.Int("output_tokens") ?? usage.Int("completion_tokens");
        return input is null && output is null ? null : new TokenUsage(input ?? 0, output ?? 0);
    }

    // Answers name the same few models (the vendors' dated snapshots) call after call.
    private static readonly RecentString AnswerModels = new();

    /// <summary>
    /// A passthrough answer's top-level <c>model</c> and the counts of its <c>usage</c> object (see <see cref="Counts"/>),
    /// read in one pass without building a document (it runs on every metered answer); nothing when the body is not a
    /// valid JSON object.
    /// </summary>
    public static PassthroughUsage TopLevelUsage(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            TokenUsage? usage = null;
            string? model = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isUsage = reader.ValueTextEquals("usage"u8);
                var isModel = !isUsage && reader.ValueTextEquals("model"u8);
                reader.Read();
                if (isUsage)
                {
                    usage = reader.TokenType == JsonTokenType.StartObject ? ReadCounts(ref reader) : null;
                }
                else if (isModel)
                {
                    model = reader.TokenType == JsonTokenType.String ? AnswerModels.Read(ref reader) : null;
                }

                // The rest of this value (all of it, for any other property; nothing left for one read above).
                reader.Skip();
            }

            // The whole object read, as a document parse would insist.
            return reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0
                ? new PassthroughUsage(usage, model)
                : default;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return default;
        }
    }

    // The counts of the usage object the reader stands at the start of, as Counts reads them; leaves it at its end.
    internal static TokenUsage? ReadCounts(ref Utf8JsonReader reader)
    {
        int? input = null, prompt = null, output = null, completion = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ref var slot = ref input;
            var known = true;
            if (reader.ValueTextEquals("input_tokens"u8))
            {
            }
            else if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                slot = ref prompt;
            }
            else if (reader.ValueTextEquals("output_tokens"u8))
            {
                slot = ref output;
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                slot = ref completion;
            }
            else
            {
                known = false;
            }

            reader.Read();
            if (known)
            {
                slot = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number) ? number : null;
            }

            reader.Skip();
        }

        input ??= prompt;
        output ??= completion;
        return input is null && output is null ? null : new TokenUsage(input ?? 0, output ?? 0);
    }

    /// <summary>
    /// <c>"error": {"message", "type", "code", "param": null}</c>, the OpenAI shape (which Cohere's SDKs read too):
    /// the type by status class as OpenAI names them, the gateway's code as the code.
    /// </summary>
    public static void WriteOpenAiStyleError(Utf8JsonWriter json, int status, string code, string message, string? param = null)
    {
        json.WriteStartObject("error");
        json.WriteString("message", message);
        json.WriteString("type", status switch
        {
            401 or 403 => "authentication_error",
            429 => "rate_limit_error",
            >= 500 => "server_error",
            _ => "invalid_request_error",
        });
        json.WriteString("code", code);
        json.WriteString("param", param);
        json.WriteEndObject();
    }

    /// <summary>A string field of the <c>error</c> object of an error body (<c>{"error": {"code": …}}</c>), or null.</summary>
    public static string? ErrorField(ReadOnlySpan<byte> body, string name)
    {
        try
        {
            using var document = Parse(body);
            return document.RootElement.Child("error").String(name);
        }
        catch (VendorFormatException)
        {
            return null;
        }
    }

    /// <summary>The error message of the common <c>{"error": {"message": …}}</c> / <c>{"message": …}</c> shapes.</summary>
    public static string? ErrorMessage(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = Parse(body);
            var root = document.RootElement;
            return root.Child("error").String("message") ?? root.String("message") ?? root.String("error");
        }
        catch (VendorFormatException)
        {
            return null;
        }
    }
}

/// <summary>Reading the vendors' own response headers.</summary>
internal static class VendorHeaders
{
    /// <summary>The header's only value, or null when it is absent or repeated.</summary>
    public static string? Single(HttpResponseHeaders headers, string name)
        => headers.TryGetValues(name, out var values) && values.Count() == 1 ? values.First() : null;

    /// <summary>A Go-style duration as OpenAI writes its resets: <c>20ms</c>, <c>1s</c>, <c>6m0s</c>, <c>1h2m3.5s</c>.</summary>
    public static TimeSpan? Duration(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var total = TimeSpan.Zero;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (i == start || !double.TryParse(text.AsSpan(start, i - start), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number))
            {
                return null;
            }

            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }

            total += text.AsSpan(unitStart, i - unitStart) switch
            {
                "h" => TimeSpan.FromHours(number),
                "m" => TimeSpan.FromMinutes(number),
                "s" => TimeSpan.FromSeconds(number),
                "ms" => TimeSpan.FromMilliseconds(number),
                _ => TimeSpan.MinValue,
            };
            if (total < TimeSpan.Zero)
            {
                return null;
            }
        }

        return total;
    }
}
