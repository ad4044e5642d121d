using System.Text;
using System.Text.Json;
using Gateway.Transforms.Vendors;

namespace Gateway.Transforms.Schema;

/// <summary>
/// The gateway's OpenAI-compatible chat completions API: reads OpenAI's Chat Completions request into the internal
/// request, listing every fault — a malformed field, an unknown one, and every parameter the gateway does not carry to a
/// vendor, named, rather than dropped. What depends on the vendor that serves the model (a seed, JSON mode, how many stop
/// sequences) is checked once the model is resolved (<see cref="CheckVendor"/>).
/// </summary>
public static class ChatCompletionsRequestReader
{
    public const int MaxStop = 4;

    // Parameters of the OpenAI API this gateway does not translate (yet): named in a 400, never silently dropped. A
    // neutral value (false, 0, an empty list) asks for nothing and is let through.
    private static readonly Dictionary<string, string> NotCarried = new(StringComparer.Ordinal)
    {
        ["functions"] = "function calling is not available on this gateway (and is deprecated in favour of tools)",
        ["function_call"] = "function calling is not available on this gateway (and is deprecated in favour of tools)",
        ["logprobs"] = "log probabilities are not carried across vendors",
        ["top_logprobs"] = "log probabilities are not carried across vendors",
        ["logit_bias"] = "logit bias is not carried across vendors",
        ["presence_penalty"] = "presence penalty is not carried across vendors",
        ["frequency_penalty"] = "frequency penalty is not carried across vendors",
        ["audio"] = "audio output is not available on this gateway",
        ["modalities"] = "output modalities other than text are not available on this gateway",
        ["prediction"] = "predicted outputs are not carried across vendors",
        ["web_search_options"] = "web search is not available on this gateway",
        ["reasoning_effort"] = "set reasoning effort per model alias in the gateway's configuration (Gateway:Models:{alias}:RequestFields)",
        ["verbosity"] = "verbosity is not carried across vendors",
        ["service_tier"] = "service tiers are chosen by the gateway's configuration, not per call",
        ["store"] = "the gateway does not store completions",
        ["metadata"] = "the gateway does not store completions, so it takes no metadata for them",
        ["prompt_cache_key"] = "prompt caching keys are not carried across vendors",
        ["safety_identifier"] = "use 'user' to name the end user",
    };

    private static readonly ObjectFields Known = new(
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed", "user", "stream",
        "stream_options", "n", "response_format", "tools", "tool_choice", "parallel_tool_calls");

    private static readonly long ModelBit = Known.Bit("model"), MessagesBit = Known.Bit("messages");

    /// <summary>The request in internal terms (format verbatim), or null with every fault in <paramref name="errors"/>.</summary>
    public static TaskRequest? Read(ReadOnlyMemory<byte> body, out List<FieldError> errors)
    {
        errors = [];
        using var document = TaskRequestReader.Parse(body, errors);
        if (document is null)
        {
            return null;
        }

        var root = document.RootElement;
        var fields = Known.Start();
        string? model = null;
        List<ChatMessage>? messages = null;
        int? maxTokens = null, maxCompletionTokens = null;
        double? temperature = null, topP = null;
        List<string>? stop = null;
        long? seed = null;
        string? user = null;
        bool stream = false, includeUsage = false, jsonMode = false, streamOptions = false;
        JsonSchemaFormat? jsonSchema = null;
        List<ToolDefinition>? tools = null;
        ToolChoice? toolChoice = null;
        bool? parallelToolCalls = null;
        foreach (var property in root.EnumerateObject())
        {
            if (!fields.Take(property, errors, out var name))
            {
                continue;
            }

            var value = property.Value;

            switch (name)
            {
                case "model":
                    model = TaskRequestReader.Text(name, value, SchemaLimits.MaxModelLength, errors);
                    break;
                case "messages":
                    messages = Messages(value, errors);
                    break;
                case "max_tokens":
                    maxTokens = Integer(name, value, 1, SchemaLimits.MaxOutputTokens, errors);
                    break;
                case "max_completion_tokens":
                    maxCompletionTokens = Integer(name, value, 1, SchemaLimits.MaxOutputTokens, errors);
                    break;
                case "temperature":
                    temperature = Number(name, value, 0, SchemaLimits.MaxTemperature, errors);
                    break;
                case "top_p":
                    topP = Number(name, value, 0, 1, errors);
                    break;
                case "stop":
                    stop = Stop(value, errors);
                    break;
                case "seed":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
                    {
                        errors.Add(new FieldError(name, "must be an integer"));
                    }
                    else
                    {
                        seed = number;
                    }

                    break;
                case "user":
                    user = TaskRequestReader.Text(name, value, SchemaLimits.MaxUserLength, errors);
                    break;
                case "stream":
                    stream = Boolean(name, value, errors);
                    break;
                case "stream_options":
                    streamOptions = true;
                    includeUsage = StreamOptions(value, errors);
                    break;
                case "n":
                    if (Integer(name, value, 1, int.MaxValue, errors) is > 1)
                    {
                        errors.Add(new FieldError(name, "must be 1: the gateway asks for one choice per call (send the call n times instead)"));
                    }

                    break;
                case "response_format":
                    (jsonMode, jsonSchema) = ResponseFormat(value, errors);
                    break;
                case "tools":
                    tools = ChatTools.Read(value, errors);
                    break;
                case "tool_choice":
                    toolChoice = ChatTools.Choice(value, errors);
                    break;
                case "parallel_tool_calls":
                    parallelToolCalls = Boolean(name, value, errors);
                    break;
                default:
                    if (NotCarried.TryGetValue(name, out var why))
                    {
                        if (!Neutral(value))
                        {
                            errors.Add(new FieldError(name, "is not supported: " + why));
                        }
                    }
                    else
                    {
                        errors.Add(new FieldError(name, "is not a parameter of the chat completions API"));
                    }

                    break;
            }
        }

        if ((fields.Given & ModelBit) == 0)
        {
            errors.Add(new FieldError("model", "is required: a model alias of the gateway (GET /v1/models lists them) or provider/model"));
        }

        if ((fields.Given & MessagesBit) == 0)
        {
            errors.Add(new FieldError("messages", "is required"));
        }
        else if (messages is { Count: > 0 } && messages.TrueForAll(m => m.Role == ChatMessage.System))
        {
            errors.Add(new FieldError("messages", "must hold a user or assistant message"));
        }

        if (maxTokens is not null && maxCompletionTokens is not null && maxTokens != maxCompletionTokens)
        {
            errors.Add(new FieldError("max_tokens", "and max_completion_tokens differ: give one of them"));
        }

        if (streamOptions && !stream)
        {
            errors.Add(new FieldError("stream_options", "is only allowed when stream is true"));
        }

        if (toolChoice is not null && tools is not { Count: > 0 })
        {
            errors.Add(new FieldError("tool_choice", "is only allowed when tools are given"));
        }
        else if (toolChoice?.Function is { } function && tools is not null && !tools.Exists(t => t.Name == function))
        {
            errors.Add(new FieldError("tool_choice", $"names '{function}', which is not a function of tools"));
        }

        // Checked on a conversation read whole, so the indexes named are the caller's.
        if (messages is not null && messages.Count == root.GetProperty("messages").GetArrayLength())
        {
            ChatTools.CheckConversation(messages, errors);
        }

        return errors.Count > 0 ? null : new TaskRequest
        {
            Model = model,
            Messages = messages,
            MaxTokens = maxCompletionTokens ?? maxTokens,
            Temperature = temperature,
            TopP = topP,
            Stop = stop,
            Seed = seed,
            User = user,
            Stream = stream,
            IncludeUsage = includeUsage,
            JsonMode = jsonMode,
            JsonSchema = jsonSchema,
            Tools = tools is { Count: > 0 } ? tools : null,
            ToolChoice = tools is { Count: > 0 } ? toolChoice : null,
            ParallelToolCalls = tools is { Count: > 0 } ? parallelToolCalls : null,
            Format = OutputFormats.Verbatim,
        };
    }

    /// <summary>Whether the vendor can take all of the request (a fallback target must, too).</summary>
    public static bool Fits(TaskRequest request, string provider, IVendorAdapter vendor)
    {
        var faults = new List<FieldError>();
        CheckVendor(request, provider, vendor, faults);
        return faults.Count == 0;
    }

    /// <summary>Faults of a valid request for the vendor that serves its model: what that vendor cannot take, named with the vendor.</summary>
    public static void CheckVendor(TaskRequest request, string provider, IVendorAdapter vendor, List<FieldError> errors)
    {
        var features = vendor.Features;
        var named = provider == vendor.Name ? provider : $"{provider} ({vendor.Name})";
        if (request.Seed is not null && !features.Seed)
        {
            errors.Add(new FieldError("seed", $"is not supported by {named}"));
        }

        if (request.JsonSchema is not null && !features.JsonSchema)
        {
            errors.Add(new FieldError("response_format", $"json_schema is not supported by {named}"));
        }
        else if (request.JsonSchema is null && request.JsonMode && !features.JsonMode)
        {
            errors.Add(new FieldError("response_format", $"json_object is not supported by {named}"));
        }

        if (request.Stop is { Count: > 0 } stop && stop.Count > features.MaxStop)
        {
            errors.Add(new FieldError("stop", features.MaxStop == 0 ? $"is not supported by {named}" : $"holds {stop.Count} sequences; {named} takes at most {features.MaxStop}"));
        }

        if (request.Temperature > vendor.MaxTemperature)
        {
            errors.Add(new FieldError("temperature", $"must be at most {vendor.MaxTemperature} for {named}"));
        }

        ChatTools.CheckVendor(request, named, features, errors);
    }

    private static List<ChatMessage>? Messages(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError("messages", $"must be an array of messages, not {TaskRequestReader.Describe(value.ValueKind)}"));
            return null;
        }

        var count = value.GetArrayLength();
        if (count == 0 || count > SchemaLimits.MaxMessages)
        {
            errors.Add(new FieldError("messages", $"must hold 1 to {SchemaLimits.MaxMessages} messages (has {count})"));
            return null;
        }

        var messages = new List<ChatMessage>(count);
        var index = 0;
        foreach (var message in value.EnumerateArray())
        {
            var at = index++;
            if (message.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError(MessagePath(at), $"must be an object with role and content, not {TaskRequestReader.Describe(message.ValueKind)}"));
                continue;
            }

            if (Message(at, message, errors) is { } read)
            {
                messages.Add(read);
            }
        }

        return messages;
    }

    // The paths of the first messages and of their content, made once: a valid request builds no path.
    private static readonly string[] MessagePaths = [.. Enumerable.Range(0, 64).Select(i => $"messages[{i}]")];
    private static readonly string[] ContentPaths = [.. MessagePaths.Select(p => p + ".content")];

    private static string MessagePath(int index) => index < MessagePaths.Length ? MessagePaths[index] : $"messages[{index}]";

    // The role as one of the vocabulary's own strings (no string read for the usual ones).
    private static string? Role(JsonElement message)
    {
        if (!message.TryGetProperty("role"u8, out var role) || role.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        return role.ValueEquals("user"u8) ? ChatMessage.User
            : role.ValueEquals("assistant"u8) ? ChatMessage.Assistant
            : role.ValueEquals("system"u8) ? ChatMessage.System
            : role.ValueEquals("tool"u8) ? ChatMessage.Tool
            : role.GetString();
    }

    // One message; null when it has a fault (named in errors).
    private static ChatMessage? Message(int index, JsonElement message, List<FieldError> errors)
    {
        var before = errors.Count;
        var path = MessagePath(index);
        var role = Role(message);
        if (role is "function")
        {
            errors.Add(new FieldError(path + ".role", "'function' is not supported (it is deprecated): answer tool calls with 'tool' messages"));
        }
        else if (role is not ("system" or "developer" or "user" or "assistant" or "tool"))
        {
            errors.Add(new FieldError(path + ".role", role is null && !message.TryGetProperty("role", out _) ? "is required" : "must be one of: system, developer, user, assistant, tool"));
        }

        (string Text, List<ContentPart>? Parts)? content = null;
        var contentNull = false;
        List<ToolCall>? toolCalls = null;
        string? toolCallId = null;
        foreach (var property in message.EnumerateObject())
        {
            if (property.NameEquals("role"u8))
            {
                continue;
            }

            if (property.NameEquals("content"u8))
            {
                contentNull = property.Value.ValueKind == JsonValueKind.Null;
                content = contentNull ? null : Content(index < ContentPaths.Length ? ContentPaths[index] : path + ".content", property.Value, images: role == "user", errors);
                continue;
            }

            var field = $"{path}.{property.Name}";
            switch (property.Name)
            {
                case "tool_calls" when role == "assistant":
                    toolCalls = ChatTools.Calls(field, property.Value, errors);
                    break;
                case "tool_call_id" when role == "tool":
                    toolCallId = TaskRequestReader.Text(field, property.Value, SchemaLimits.MaxModelLength, errors);
                    break;
                case "tool_calls" or "tool_call_id":
                    if (!Neutral(property.Value))
                    {
                        errors.Add(new FieldError(field, $"is only allowed on {(property.Name == "tool_calls" ? "assistant" : "tool")} messages"));
                    }

                    break;
                case "function_call":
                    if (!Neutral(property.Value))
                    {
                        errors.Add(new FieldError(field, "is not supported (it is deprecated): give tool_calls"));
                    }

                    break;
                case "name":
                    errors.Add(new FieldError(field, "is not supported: participant names are not carried across vendors"));
                    break;
                case "refusal" or "audio":
                    if (!Neutral(property.Value))
                    {
                        errors.Add(new FieldError(field, "is not supported in a request message"));
                    }

                    break;
                default:
                    errors.Add(new FieldError(field, "is not a field of a message"));
                    break;
            }
        }

        if (content is null && !(role == "assistant" && toolCalls is { Count: > 0 }))
        {
            if (!message.TryGetProperty("content", out _) || contentNull)
            {
                errors.Add(new FieldError(path + ".content", role == "assistant" ? "is required unless tool_calls are given" : "is required"));
            }
        }

        if (role == "tool" && toolCallId is null && !message.TryGetProperty("tool_call_id", out _))
        {
            errors.Add(new FieldError(path + ".tool_call_id", "is required: the id of the tool call this message answers"));
        }

        if (errors.Count > before)
        {
            return null;
        }

        return new ChatMessage(role == "developer" ? ChatMessage.System : role!, content?.Text ?? "")
        {
            Parts = content?.Parts,
            ToolCalls = toolCalls is { Count: > 0 } ? toolCalls : null,
            ToolCallId = toolCallId,
        };
    }

    // A string, or an array of text parts ({"type": "text", "text": …}) and, in user messages, image parts
    // ({"type": "image_url", "image_url": {"url", "detail"}}); the parts are kept only when there is an image.
    private static (string Text, List<ContentPart>? Parts)? Content(string field, JsonElement value, bool images, List<FieldError> errors)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return (TaskRequestReader.Text(field, value, SchemaLimits.MaxTextLength, errors)!, null);
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
        {
            errors.Add(new FieldError(field, $"must be a string or an array of content parts, not {(value.ValueKind == JsonValueKind.Array ? "an empty array" : TaskRequestReader.Describe(value.ValueKind))}"));
            return null;
        }

        var text = new StringBuilder();
        var parts = new List<ContentPart>(value.GetArrayLength());
        var hasImage = false;
        var index = 0;
        foreach (var part in value.EnumerateArray())
        {
            var path = $"{field}[{index++}]";
            var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type == "text" && part.TryGetProperty("text", out var partText) && partText.ValueKind == JsonValueKind.String)
            {
                text.Append(partText.GetString());
                parts.Add(new ContentPart(partText.GetString(), null));
            }
            else if (type == "image_url" && images)
            {
                if (ChatTools.Image(path, part, errors) is { } image)
                {
                    parts.Add(new ContentPart(null, image));
                    hasImage = true;
                }
            }
            else if (type == "image_url")
            {
                errors.Add(new FieldError(path, "'image_url' parts are only allowed in user messages"));
            }
            else if (type is "input_audio" or "file")
            {
                errors.Add(new FieldError(path, $"'{type}' parts are not supported: text and image parts are carried"));
            }
            else
            {
                errors.Add(new FieldError(path, "must be a content part such as {\"type\": \"text\", \"text\": \"…\"}"));
            }
        }

        if (text.Length > SchemaLimits.MaxTextLength)
        {
            errors.Add(new FieldError(field, $"is {text.Length} characters long; the most is {SchemaLimits.MaxTextLength}"));
        }

        return (text.ToString(), hasImage ? parts : null);
    }

    private static List<string>? Stop(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!.Length == 0 ? Fault() : [value.GetString()!];
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is 0 or > MaxStop
            || value.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String || s.GetString()!.Length == 0))
        {
            return Fault();
        }

        return [.. value.EnumerateArray().Select(s => s.GetString()!)];

        List<string>? Fault()
        {
            errors.Add(new FieldError("stop", $"must be a non-empty string or an array of 1 to {MaxStop} non-empty strings"));
            return null;
        }
    }

    private static bool StreamOptions(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("stream_options", $"must be an object, not {TaskRequestReader.Describe(value.ValueKind)}"));
            return false;
        }

        var include = false;
        foreach (var option in value.EnumerateObject())
        {
            if (option.Name == "include_usage")
            {
                include = Boolean("stream_options.include_usage", option.Value, errors);
            }
            else if (option.Name != "include_obfuscation")
            {
                errors.Add(new FieldError("stream_options." + option.Name, "is not a stream option (include_usage is)"));
            }
        }

        return include;
    }

    private static (bool Json, JsonSchemaFormat? Schema) ResponseFormat(JsonElement value, List<FieldError> errors)
    {
        var type = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "text":
                return (false, null);
            case "json_object":
                return (true, null);
            case "json_schema":
                return (true, JsonSchema(value, errors));
            default:
                errors.Add(new FieldError("response_format", "must be an object whose type is text, json_object or json_schema"));
                return (false, null);
        }
    }

    // {"type": "json_schema", "json_schema": {"name", "schema", "strict", "description"}}
    private static JsonSchemaFormat? JsonSchema(JsonElement format, List<FieldError> errors)
    {
        const string field = "response_format.json_schema";
        if (!format.TryGetProperty("json_schema", out var spec) || spec.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(field, "is required: an object with name and schema"));
            return null;
        }

        var before = errors.Count;
        var name = spec.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            errors.Add(new FieldError(field + ".name", "must be 1 to 64 letters, digits, '_' or '-'"));
        }

        if (!spec.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(field + ".schema", "must be a JSON schema object"));
        }

        var strict = false;
        if (spec.TryGetProperty("strict", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            strict = Boolean(field + ".strict", s, errors);
        }

        foreach (var property in spec.EnumerateObject().Where(p => p.Name is not ("name" or "schema" or "strict" or "description")))
        {
            errors.Add(new FieldError($"{field}.{property.Name}", "is not a field of a JSON schema format"));
        }

        return errors.Count > before ? null : new JsonSchemaFormat(name, schema.GetRawText(), strict);
    }

    private static int? Integer(string name, JsonElement value, int min, int max, List<FieldError> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min && number <= max)
        {
            return number;
        }

        errors.Add(new FieldError(name, max == int.MaxValue ? $"must be an integer of at least {min}" : $"must be an integer from {min} to {max}"));
        return null;
    }

    private static double? Number(string name, JsonElement value, double min, double max, List<FieldError> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && number >= min && number <= max)
        {
            return number;
        }

        errors.Add(new FieldError(name, $"must be a number from {min} to {max}"));
        return null;
    }

    internal static bool Boolean(string name, JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        errors.Add(new FieldError(name, $"must be true or false, not {TaskRequestReader.Describe(value.ValueKind)}"));
        return false;
    }

    // A value that asks for nothing: false, 0, an empty string, array or object.
    private static bool Neutral(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.False => true,
        JsonValueKind.Number => value.TryGetDouble(out var number) && number == 0,
        JsonValueKind.String => value.GetString()!.Length == 0,
        JsonValueKind.Array => value.GetArrayLength() == 0,
        JsonValueKind.Object => !value.EnumerateObject().Any(),
        _ => false,
    };
}
