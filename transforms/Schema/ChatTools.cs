using System.Text.Json;
using Gateway.Transforms.Vendors;

namespace Gateway.Transforms.Schema;

/// <summary>
/// The tool-calling and image parts of an OpenAI chat completions request: function tools, the tool choice, the
/// assistant's tool calls and the tool messages answering them, image parts — read, checked as a conversation (every
/// call answered, every answer to a call), and checked against what the serving vendor can take.
/// </summary>
internal static class ChatTools
{
    public const int MaxTools = 128;

    private static readonly string[] ImageTypes = ["image/png", "image/jpeg", "image/gif", "image/webp"];

    /// <summary><c>tools</c>: function tools (<c>{"type": "function", "function": {"name", "description", "parameters", "strict"}}</c>).</summary>
    public static List<ToolDefinition>? Read(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > MaxTools)
        {
            errors.Add(new FieldError("tools", $"must be an array of at most {MaxTools} function tools"));
            return null;
        }

        var tools = new List<ToolDefinition>(value.GetArrayLength());
        var index = 0;
        foreach (var tool in value.EnumerateArray())
        {
            var path = $"tools[{index++}]";
            var type = tool.String("type");
            if (type != "function")
            {
                errors.Add(new FieldError(path + ".type", type is null
                    ? "must be 'function'"
                    : $"'{type}' tools are not supported: function tools are carried to every vendor"));
                continue;
            }

            foreach (var property in tool.EnumerateObject().Where(p => p.Name is not ("type" or "function")))
            {
                errors.Add(new FieldError($"{path}.{property.Name}", "is not a field of a function tool"));
            }

            if (Function(path + ".function", tool.Child("function"), errors) is { } function)
            {
                if (tools.Exists(t => t.Name == function.Name))
                {
                    errors.Add(new FieldError(path + ".function.name", $"'{function.Name}' names another tool too"));
                }

                tools.Add(function);
            }
        }

        return tools;
    }

    private static ToolDefinition? Function(string path, JsonElement function, List<FieldError> errors)
    {
        if (function.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(path, "is required: an object with name, and description and parameters"));
            return null;
        }

        var before = errors.Count;
        var name = FunctionName(path + ".name", function.Child("name"), errors);
        string? description = null, parameters = null;
        var strict = false;
        foreach (var property in function.EnumerateObject())
        {
            var field = $"{path}.{property.Name}";
            switch (property.Name)
            {
                case "name":
                    break;
                case "description":
                    description = TaskRequestReader.Text(field, property.Value, SchemaLimits.MaxTextLength, errors);
                    break;
                case "parameters":
                    if (property.Value.ValueKind != JsonValueKind.Object)
                    {
                        errors.Add(new FieldError(field, "must be a JSON schema object"));
                    }

                    parameters = property.Value.GetRawText();
                    break;
                case "strict":
                    strict = property.Value.ValueKind != JsonValueKind.Null && ChatCompletionsRequestReader.Boolean(field, property.Value, errors);
                    break;
                default:
                    errors.Add(new FieldError(field, "is not a field of a function"));
                    break;
            }
        }

        return errors.Count > before ? null : new ToolDefinition(name!, description, parameters, strict);
    }

    // 1 to 64 letters, digits, '_' or '-': OpenAI's rule, which the other vendors' rules admit.
    private static string? FunctionName(string field, JsonElement value, List<FieldError> errors)
    {
        var name = value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            errors.Add(new FieldError(field, "must be 1 to 64 letters, digits, '_' or '-'"));
            return null;
        }

        return name;
    }

    /// <summary><c>tool_choice</c>: <c>"none"</c>, <c>"auto"</c>, <c>"required"</c> or <c>{"type": "function", "function": {"name"}}</c>.</summary>
    public static ToolChoice? Choice(JsonElement value, List<FieldError> errors)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String when value.GetString() is ToolChoice.Auto or ToolChoice.None or ToolChoice.Required:
                return new ToolChoice(value.GetString()!);
            case JsonValueKind.Object when value.String("type") == "function":
                var name = FunctionName("tool_choice.function.name", value.Child("function").Child("name"), errors);
                return name is null ? null : new ToolChoice(ToolChoice.Named, name);
            case JsonValueKind.Object when value.String("type") is { } type:
                errors.Add(new FieldError("tool_choice", $"'{type}' is not supported: give none, auto, required or a function"));
                return null;
            default:
                errors.Add(new FieldError("tool_choice", "must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": …}}"));
                return null;
        }
    }

    /// <summary>An assistant message's <c>tool_calls</c>: <c>{"id", "type": "function", "function": {"name", "arguments"}}</c>, arguments a JSON object as text.</summary>
    public static List<ToolCall>? Calls(string field, JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > MaxTools)
        {
            errors.Add(new FieldError(field, $"must be an array of at most {MaxTools} tool calls"));
            return null;
        }

        var calls = new List<ToolCall>(value.GetArrayLength());
        var index = 0;
        foreach (var call in value.EnumerateArray())
        {
            var path = $"{field}[{index++}]";
            var before = errors.Count;
            var id = call.String("id");
            if (string.IsNullOrEmpty(id) || id.Length > SchemaLimits.MaxModelLength)
            {
                errors.Add(new FieldError(path + ".id", "is required: the call's id, which its tool message answers"));
            }

            if (call.String("type") is not ("function" or null))
            {
                errors.Add(new FieldError(path + ".type", "must be 'function'"));
            }

            var function = call.Child("function");
            var name = FunctionName(path + ".function.name", function.Child("name"), errors);
            var arguments = function.String("arguments");
            if (arguments is null)
            {
                errors.Add(new FieldError(path + ".function.arguments", "is required: the call's arguments, a JSON object as text"));
            }
            else if (arguments.Length == 0)
            {
                arguments = "{}";
            }
            else if (!IsJsonObject(arguments))
            {
                errors.Add(new FieldError(path + ".function.arguments", "must be a JSON object as text"));
            }

            if (errors.Count == before)
            {
                calls.Add(new ToolCall(id!, name!, arguments!));
            }
        }

        return calls;
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>An image part: <c>{"type": "image_url", "image_url": {"url", "detail"}}</c>, the URL http(s) or a base64 <c>data:</c> URL of a PNG, JPEG, GIF or WebP.</summary>
    public static ImageInput? Image(string path, JsonElement part, List<FieldError> errors)
    {
        var image = part.Child("image_url");
        var url = image.String("url");
        var detail = image.String("detail");
        var before = errors.Count;
        if (url is null || !(url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || IsImageDataUrl(url)))
        {
            errors.Add(new FieldError(path + ".image_url.url", "must be an http(s) URL or a data URL (data:image/png|jpeg|gif|webp;base64,…)"));
        }

        if (image.ValueKind == JsonValueKind.Object && image.TryGetProperty("detail", out var d) && d.ValueKind != JsonValueKind.Null && detail is not ("auto" or "low" or "high"))
        {
            errors.Add(new FieldError(path + ".image_url.detail", "must be auto, low or high"));
        }

        foreach (var property in part.EnumerateObject().Where(p => p.Name is not ("type" or "image_url")))
        {
            errors.Add(new FieldError($"{path}.{property.Name}", "is not a field of an image part"));
        }

        return errors.Count > before ? null : new ImageInput(url!, detail);
    }

    private static bool IsImageDataUrl(string url)
    {
        if (!url.StartsWith("data:", StringComparison.Ordinal))
        {
            return false;
        }

        var semicolon = url.IndexOf(";base64,", StringComparison.Ordinal);
        return semicolon > 5 && ImageTypes.Contains(url[5..semicolon], StringComparer.OrdinalIgnoreCase) && url.Length > semicolon + ";base64,".Length;
    }

    /// <summary>
    /// The conversation's tool turns: an assistant message's tool calls are answered by the tool messages right after it,
    /// one per call; a tool message answers a call of that assistant message.
    /// </summary>
    public static void CheckConversation(List<ChatMessage> messages, List<FieldError> errors)
    {
        HashSet<string>? open = null;
        var caller = -1;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.Role == ChatMessage.Tool)
            {
                if (open is null || !open.Remove(message.ToolCallId!))
                {
                    errors.Add(new FieldError($"messages[{i}].tool_call_id", $"'{message.ToolCallId}' answers no tool call of the assistant message before it"));
                }

                continue;
            }

            Unanswered();
            open = message.ToolCalls is { } calls ? [.. calls.Select(c => c.Id)] : null;
            caller = i;
        }

        Unanswered();

        void Unanswered()
        {
            if (open is { Count: > 0 })
            {
                errors.Add(new FieldError($"messages[{caller}].tool_calls", $"{string.Join(", ", open)} {(open.Count == 1 ? "has" : "have")} no tool message answering {(open.Count == 1 ? "it" : "them")} right after this message"));
            }
        }
    }

    /// <summary>What of the tools and images the vendor cannot take, named with the vendor.</summary>
    public static void CheckVendor(TaskRequest request, string named, ChatFeatures features, List<FieldError> errors)
    {
        if (request.ToolChoice is { Mode: ToolChoice.Named } && !features.NamedToolChoice)
        {
            errors.Add(new FieldError("tool_choice", $"naming a function is not supported by {named} (none, auto and required are)"));
        }

        if (request.ParallelToolCalls == false && !features.SerialToolCalls)
        {
            errors.Add(new FieldError("parallel_tool_calls", $"false is not supported by {named}"));
        }

        if (request.Tools is { } tools && !features.StrictPerTool && tools.Any(t => t.Strict) && !tools.All(t => t.Strict))
        {
            errors.Add(new FieldError("tools", $"{named} takes strict for every tool or for none"));
        }

        if (features.ImageDetail)
        {
            return;
        }

        for (var i = 0; i < (request.Messages?.Count ?? 0); i++)
        {
            var parts = request.Messages![i].Parts ?? [];
            for (var j = 0; j < parts.Count; j++)
            {
                if (parts[j].Image?.Detail is "low" or "high")
                {
                    errors.Add(new FieldError($"messages[{i}].content[{j}].image_url.detail", $"'{parts[j].Image!.Detail}' is not supported by {named} (auto is)"));
                }
            }
        }
    }
}
