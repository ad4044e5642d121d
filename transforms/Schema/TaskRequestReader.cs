using System.Text.Json;

namespace Gateway.Transforms.Schema;

/// <summary>Bounds on the internal schema's fields.</summary>
public static class SchemaLimits
{
    public const int MaxTextLength = 1_000_000;
    public const int MaxMessages = 500;
    public const int MaxModelLength = 200;
    public const int MaxUserLength = 256;
    public const int MaxMetadataEntries = 16;
    public const int MaxMetadataKeyLength = 64;
    public const int MaxMetadataValueLength = 512;
    public const int MaxOutputTokens = 200_000;
    public const double MaxTemperature = 2.0;
    public const int MaxDepth = 16;
}

/// <summary>The host's checks of a request's model and temperature; adds a fault to <paramref name="errors"/> for each.</summary>
/// <param name="model">The <c>model</c> field, or null when absent (the default alias).</param>
/// <param name="temperature">The <c>temperature</c> field when given and within the schema's range.</param>
public delegate void TaskRequestCheck(string? model, double? temperature, List<FieldError> errors);

/// <summary>
/// Parses and validates a task request, listing every field at fault (wrong type, missing, out of range, unknown)
/// rather than stopping at the first, and binds each field as it checks it (one pass over the document).
/// </summary>
public static class TaskRequestReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = SchemaLimits.MaxDepth };

    /// <summary>The request, or null with every fault in <paramref name="errors"/>.</summary>
    /// <param name="check">
    /// The host's own checks of the model and temperature (which models exist, what each vendor accepts), run with the
    /// schema's so that every fault is listed at once; called whenever those fields are well-formed or absent.
    /// </param>
    public static TaskRequest? Read(ReadOnlyMemory<byte> body, TaskKind task, out List<FieldError> errors, TaskRequestCheck? check = null)
    {
        errors = [];
        using var document = Parse(body, errors);
        if (document is null)
        {
            return null;
        }

        var request = ReadFields(document.RootElement, task, errors, check);
        return errors.Count > 0 ? null : request;
    }

    /// <summary>The body as a JSON object, or null with the fault (empty, not UTF-8, not JSON, an escape no string can hold, not an object).</summary>
    internal static JsonDocument? Parse(ReadOnlyMemory<byte> body, List<FieldError> errors)
    {
        if (body.IsEmpty)
        {
            errors.Add(new FieldError("$", "the request body is empty: send a JSON object"));
            return null;
        }

        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            errors.Add(new FieldError("$", "the body is not valid UTF-8"));
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            errors.Add(new FieldError("$", "the body is not valid JSON: " + ex.Message));
            return null;
        }

        // A \u escape can name half of a UTF-16 surrogate pair, which no string can hold: find every such value first.
        if (body.Span.IndexOf("\\u"u8) >= 0 && !JsonEscapes.AllStringsValid(body.Span, errors))
        {
            document.Dispose();
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("$", $"must be a JSON object, not {Describe(document.RootElement.ValueKind)}"));
            document.Dispose();
            return null;
        }

        return document;
    }

    private static readonly ObjectFields Known =
        new("prompt", "context", "system", "messages", "model", "user", "max_tokens", "temperature", "format", "stream", "metadata");

    private static readonly long PromptBit = Known.Bit("prompt"), ContextBit = Known.Bit("context"), MessagesBit = Known.Bit("messages");

    // Every field checked, and read as it is checked (each value once, no second pass to bind): the request, which counts
    // only when no fault was found.
    private static TaskRequest ReadFields(JsonElement root, TaskKind task, List<FieldError> errors, TaskRequestCheck? check)
    {
        var before = errors.Count;
        var fields = Known.Start();
        string? prompt = null, context = null, system = null, model = null, user = null, format = null;
        int? maxTokens = null;
        double? temperature = null;
        bool? stream = null;
        List<ChatMessage>? messages = null;
        Dictionary<string, string>? metadata = null;
        var messagesValue = default(JsonElement);
        foreach (var property in root.EnumerateObject())
        {
            if (!fields.Take(property, errors, out var name))
            {
                continue;
            }

            var value = property.Value;

            switch (name)
            {
                case "prompt":
                    prompt = Text(name, value, SchemaLimits.MaxTextLength, errors);
                    break;
                case "context":
                    context = Text(name, value, SchemaLimits.MaxTextLength, errors);
                    break;
                case "system":
                    system = Text(name, value, SchemaLimits.MaxTextLength, errors);
                    break;
                case "messages" when task == TaskKind.Generate:
                    messagesValue = value;
                    messages = Messages(value, errors);
                    break;
                case "model":
                    model = Text(name, value, SchemaLimits.MaxModelLength, errors);
                    break;
                case "user":
                    user = Text(name, value, SchemaLimits.MaxUserLength, errors);
                    break;
                case "max_tokens":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var tokens) || tokens < 1 || tokens > SchemaLimits.MaxOutputTokens)
                    {
                        errors.Add(new FieldError(name, $"must be an integer from 1 to {SchemaLimits.MaxOutputTokens}"));
                    }
                    else
                    {
                        maxTokens = tokens;
                    }

                    break;
                case "temperature":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var degrees) || degrees < 0 || degrees > SchemaLimits.MaxTemperature)
                    {
                        errors.Add(new FieldError(name, $"must be a number from 0 to {SchemaLimits.MaxTemperature}"));
                    }
                    else
                    {
                        temperature = degrees;
                    }

                    break;
                case "format":
                    format = value.ValueKind == JsonValueKind.String ? Format(value) : null;
                    if (format is null)
                    {
                        errors.Add(new FieldError(name, $"must be one of: {string.Join(", ", OutputFormats.All)}"));
                    }

                    break;
                case "stream":
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        errors.Add(new FieldError(name, $"must be true or false, not {Describe(value.ValueKind)}"));
                    }
                    else
                    {
                        stream = value.ValueKind == JsonValueKind.True;
                    }

                    break;
                case "metadata":
                    metadata = Metadata(value, errors);
                    break;
                default:
                    errors.Add(new FieldError(name, task == TaskKind.Summarize && name == "messages"
                        ? "is not a field of a summarize request: put the text in 'context'"
                        : "is not a field of this request"));
                    break;
            }
        }

        if (task == TaskKind.Generate && (fields.Given & (PromptBit | MessagesBit)) == 0)
        {
            errors.Add(new FieldError("prompt", "is required (or give 'messages')"));
        }

        if (task == TaskKind.Generate && (fields.Given & (PromptBit | ContextBit)) == 0 && OnlySystemTurns(messagesValue))
        {
            errors.Add(new FieldError("messages", "must hold a user or assistant message"));
        }

        // A model or temperature with a fault of its own was not read (null): the check sees the well-formed ones.
        if (check is not null && !Faulty(errors, before, "model"))
        {
            check(model, temperature, errors);
        }

        if (task == TaskKind.Summarize && (fields.Given & ContextBit) == 0)
        {
            errors.Add(new FieldError("context", "is required: the text to summarize"));
        }

        return new TaskRequest
        {
            Prompt = prompt,
            Context = context,
            System = system,
            Messages = messages,
            Model = model,
            MaxTokens = maxTokens,
            Temperature = temperature,
            Format = format,
            Stream = stream,
            User = user,
            Metadata = metadata,
        };
    }

    // One of the output formats, as its constant (no string read per request); null when it names none.
    private static string? Format(JsonElement value)
    {
        foreach (var format in OutputFormats.All)
        {
            if (value.ValueEquals(format))
            {
                return format;
            }
        }

        return null;
    }

    // Whether a fault about the field was found since the first `from` faults.
    private static bool Faulty(List<FieldError> errors, int from, string field)
    {
        for (var i = from; i < errors.Count; i++)
        {
            if (string.Equals(errors[i].Field, field, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // A conversation of system turns only: nothing for the model to answer (prompt and context absent).
    private static bool OnlySystemTurns(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return false;
        }

        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || !role.ValueEquals(ChatMessage.System))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Checks a text field (a non-blank string of at most <paramref name="maxLength"/> characters); returns the string, if it is one, read once.</summary>
    internal static string? Text(string field, JsonElement value, int maxLength, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new FieldError(field, $"must be a string, not {Describe(value.ValueKind)}"));
            return null;
        }

        var text = value.GetString()!;
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new FieldError(field, "must not be empty"));
        }
        else if (text.Length > maxLength)
        {
            errors.Add(new FieldError(field, $"is {text.Length} characters long; the most is {maxLength}"));
        }

        return text;
    }

    // The conversation, read as it is checked; a message's path is made only for a fault.
    private static List<ChatMessage>? Messages(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError("messages", $"must be an array of {{role, content}} objects, not {Describe(value.ValueKind)}"));
            return null;
        }

        var count = value.GetArrayLength();
        if (count == 0 || count > SchemaLimits.MaxMessages)
        {
            errors.Add(new FieldError("messages", $"must hold 1 to {SchemaLimits.MaxMessages} messages (has {count})"));
            return null;
        }

        var messages = new List<ChatMessage>(count);
        var index = -1;
        foreach (var message in value.EnumerateArray())
        {
            index++;
            if (message.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError(MessagePath(index), $"must be an object with role and content, not {Describe(message.ValueKind)}"));
                continue;
            }

            var fields = 0;
            string? role = null, text = null;
            var content = default(JsonElement);
            foreach (var property in message.EnumerateObject())
            {
                var field = property.NameEquals("role"u8) ? 1 : property.NameEquals("content"u8) ? 2 : 0;
                if (field == 0)
                {
                    errors.Add(new FieldError($"{MessagePath(index)}.{property.Name}", "is not a field of a message"));
                    continue;
                }

                if ((fields & field) != 0)
                {
                    errors.Add(new FieldError($"{MessagePath(index)}.{property.Name}", "appears more than once"));
                }

                fields |= field;
                if (field == 1)
                {
                    role = Role(property.Value);
                }
                else
                {
                    content = property.Value;
                }
            }

            if (role is null)
            {
                errors.Add(new FieldError(MessagePath(index) + ".role", "must be one of: user, assistant, system"));
            }

            if ((fields & 2) == 0)
            {
                errors.Add(new FieldError(MessagePath(index) + ".content", "is required"));
            }
            else
            {
                text = Text(MessagePath(index) + ".content", content, SchemaLimits.MaxTextLength, errors);
            }

            if (role is not null && text is not null)
            {
                messages.Add(new ChatMessage(role, text));
            }
        }

        return messages;
    }

    private static string MessagePath(int index) => $"messages[{index}]";

    // A message's role as its constant; null when it is not one of them.
    private static string? Role(JsonElement value)
        => value.ValueKind != JsonValueKind.String ? null
            : value.ValueEquals(ChatMessage.User) ? ChatMessage.User
            : value.ValueEquals(ChatMessage.Assistant) ? ChatMessage.Assistant
            : value.ValueEquals(ChatMessage.System) ? ChatMessage.System
            : null;

    // The string tags, read as they are checked.
    private static Dictionary<string, string>? Metadata(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("metadata", $"must be an object of string values, not {Describe(value.ValueKind)}"));
            return null;
        }

        var count = 0;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            count++;
            var path = "metadata." + (entry.Name.Length > SchemaLimits.MaxMetadataKeyLength ? entry.Name[..SchemaLimits.MaxMetadataKeyLength] + "…" : entry.Name);
            var text = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : null;
            if (!tags.TryAdd(entry.Name, text ?? ""))
            {
                errors.Add(new FieldError(path, "appears more than once"));
            }

            if (entry.Name.Length is 0 or > SchemaLimits.MaxMetadataKeyLength)
            {
                errors.Add(new FieldError(path, $"keys must be 1 to {SchemaLimits.MaxMetadataKeyLength} characters"));
            }

            if (text is null)
            {
                errors.Add(new FieldError(path, $"must be a string, not {Describe(entry.Value.ValueKind)}"));
            }
            else if (text.Length > SchemaLimits.MaxMetadataValueLength)
            {
                errors.Add(new FieldError(path, $"is longer than {SchemaLimits.MaxMetadataValueLength} characters"));
            }
        }

        if (count > SchemaLimits.MaxMetadataEntries)
        {
            errors.Add(new FieldError("metadata", $"has {count} entries; the most is {SchemaLimits.MaxMetadataEntries}"));
        }

        return tags;
    }

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
