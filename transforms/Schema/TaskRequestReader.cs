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
/// rather than stopping at the first, then binds it with the source-generated serializer.
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

        var root = document.RootElement;
        Validate(root, task, errors, check);
        if (errors.Count > 0)
        {
            return null;
        }

        try
        {
            return root.Deserialize(SchemaJsonContext.Default.TaskRequest);
        }
        catch (JsonException ex)
        {
            // Validation is meant to catch everything binding refuses; should a case slip through, it is still the body's fault.
            errors.Add(new FieldError("$", "could not be read: " + ex.Message));
            return null;
        }
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

    // The request's fields, matched on their UTF-8 names: a known name is not made a string per request, and a repeat of
    // it is found with a bit; other names (each one a fault) are read, and their repeats found, only when they occur.
    private static readonly string[] KnownFields =
        ["prompt", "context", "system", "messages", "model", "user", "max_tokens", "temperature", "format", "stream", "metadata"];

    private static readonly byte[][] KnownFieldsUtf8 = [.. KnownFields.Select(System.Text.Encoding.UTF8.GetBytes)];

    private static string FieldName(JsonProperty property, out int known)
    {
        for (known = 0; known < KnownFieldsUtf8.Length; known++)
        {
            if (property.NameEquals(KnownFieldsUtf8[known]))
            {
                return KnownFields[known];
            }
        }

        known = -1;
        return property.Name;
    }

    private static void Validate(JsonElement root, TaskKind task, List<FieldError> errors, TaskRequestCheck? check)
    {
        var before = errors.Count;
        var seenKnown = 0;
        HashSet<string>? seenOthers = null;
        foreach (var property in root.EnumerateObject())
        {
            var name = FieldName(property, out var known);
            if (known >= 0 ? (seenKnown & (1 << known)) != 0 : !(seenOthers ??= new HashSet<string>(StringComparer.Ordinal)).Add(name))
            {
                errors.Add(new FieldError(name, "appears more than once"));
                continue;
            }

            if (known >= 0)
            {
                seenKnown |= 1 << known;
            }

            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            switch (name)
            {
                case "prompt":
                case "context":
                case "system":
                    Text(name, value, SchemaLimits.MaxTextLength, errors);
                    break;
                case "messages" when task == TaskKind.Generate:
                    Messages(value, errors);
                    break;
                case "model":
                    Text(name, value, SchemaLimits.MaxModelLength, errors);
                    break;
                case "user":
                    Text(name, value, SchemaLimits.MaxUserLength, errors);
                    break;
                case "max_tokens":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var tokens) || tokens < 1 || tokens > SchemaLimits.MaxOutputTokens)
                    {
                        errors.Add(new FieldError(name, $"must be an integer from 1 to {SchemaLimits.MaxOutputTokens}"));
                    }

                    break;
                case "temperature":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var temperature) || temperature < 0 || temperature > SchemaLimits.MaxTemperature)
                    {
                        errors.Add(new FieldError(name, $"must be a number from 0 to {SchemaLimits.MaxTemperature}"));
                    }

                    break;
                case "format":
                    if (value.ValueKind != JsonValueKind.String || !OutputFormats.All.Contains(value.GetString()))
                    {
                        errors.Add(new FieldError(name, $"must be one of: {string.Join(", ", OutputFormats.All)}"));
                    }

                    break;
                case "stream":
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        errors.Add(new FieldError(name, $"must be true or false, not {Describe(value.ValueKind)}"));
                    }

                    break;
                case "metadata":
                    Metadata(value, errors);
                    break;
                default:
                    errors.Add(new FieldError(name, task == TaskKind.Summarize && name == "messages"
                        ? "is not a field of a summarize request: put the text in 'context'"
                        : "is not a field of this request"));
                    break;
            }
        }

        if (task == TaskKind.Generate && !Has(root, "prompt") && !Has(root, "messages"))
        {
            errors.Add(new FieldError("prompt", "is required (or give 'messages')"));
        }

        if (task == TaskKind.Generate && !Has(root, "prompt") && !Has(root, "context") && OnlySystemTurns(root))
        {
            errors.Add(new FieldError("messages", "must hold a user or assistant message"));
        }

        if (check is not null && !Faulty(errors, before, "model"))
        {
            var model = Has(root, "model") ? root.GetProperty("model").GetString() : null;
            var temperature = Has(root, "temperature") && !Faulty(errors, before, "temperature") ? root.GetProperty("temperature").GetDouble() : (double?)null;
            check(model, temperature, errors);
        }

        if (task == TaskKind.Summarize && !Has(root, "context"))
        {
            errors.Add(new FieldError("context", "is required: the text to summarize"));
        }
    }

    // A field given, and not null (null means absent).
    private static bool Has(JsonElement root, string name) => root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

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
    private static bool OnlySystemTurns(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
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

    /// <summary>The object's properties, each name once (a repeat is a fault) and null values skipped (null means absent).</summary>
    internal static IEnumerable<JsonProperty> Fields(JsonElement root, HashSet<string> seen, List<FieldError> errors)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                errors.Add(new FieldError(property.Name, "appears more than once"));
            }
            else if (property.Value.ValueKind != JsonValueKind.Null)
            {
                yield return property;
            }
        }
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

    private static void Messages(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError("messages", $"must be an array of {{role, content}} objects, not {Describe(value.ValueKind)}"));
            return;
        }

        var count = value.GetArrayLength();
        if (count == 0 || count > SchemaLimits.MaxMessages)
        {
            errors.Add(new FieldError("messages", $"must hold 1 to {SchemaLimits.MaxMessages} messages (has {count})"));
            return;
        }

        var index = 0;
        foreach (var message in value.EnumerateArray())
        {
            var path = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError(path, $"must be an object with role and content, not {Describe(message.ValueKind)}"));
                continue;
            }

            var fields = 0;
            foreach (var property in message.EnumerateObject())
            {
                if (property.Name is not ("role" or "content"))
                {
                    errors.Add(new FieldError($"{path}.{property.Name}", "is not a field of a message"));
                }
                else if ((fields & (property.Name == "role" ? 1 : 2)) != 0)
                {
                    errors.Add(new FieldError($"{path}.{property.Name}", "appears more than once"));
                }

                fields |= property.Name == "role" ? 1 : 2;
            }

            if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
                || role.GetString() is not (ChatMessage.User or ChatMessage.Assistant or ChatMessage.System))
            {
                errors.Add(new FieldError(path + ".role", "must be one of: user, assistant, system"));
            }

            if (!message.TryGetProperty("content", out var content))
            {
                errors.Add(new FieldError(path + ".content", "is required"));
            }
            else
            {
                Text(path + ".content", content, SchemaLimits.MaxTextLength, errors);
            }
        }
    }

    private static void Metadata(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("metadata", $"must be an object of string values, not {Describe(value.ValueKind)}"));
            return;
        }

        var count = 0;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            count++;
            var path = "metadata." + (entry.Name.Length > SchemaLimits.MaxMetadataKeyLength ? entry.Name[..SchemaLimits.MaxMetadataKeyLength] + "…" : entry.Name);
            if (!keys.Add(entry.Name))
            {
                errors.Add(new FieldError(path, "appears more than once"));
            }

            if (entry.Name.Length is 0 or > SchemaLimits.MaxMetadataKeyLength)
            {
                errors.Add(new FieldError(path, $"keys must be 1 to {SchemaLimits.MaxMetadataKeyLength} characters"));
            }

            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                errors.Add(new FieldError(path, $"must be a string, not {Describe(entry.Value.ValueKind)}"));
            }
            else if (entry.Value.GetString()!.Length > SchemaLimits.MaxMetadataValueLength)
            {
                errors.Add(new FieldError(path, $"is longer than {SchemaLimits.MaxMetadataValueLength} characters"));
            }
        }

        if (count > SchemaLimits.MaxMetadataEntries)
        {
            errors.Add(new FieldError("metadata", $"has {count} entries; the most is {SchemaLimits.MaxMetadataEntries}"));
        }
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
