using System.Text.Json;
using Gateway.Transforms.Vendors;

namespace Gateway.Transforms.Schema;

/// <summary>
/// The OpenAI-compatible embeddings API: reads OpenAI's embeddings request (<c>model</c>, <c>input</c> as a text or an
/// array of texts, <c>encoding_format</c>, <c>dimensions</c>, <c>user</c>), listing every fault; token-array inputs and
/// unknown parameters are refused by name. Whether the serving vendor offers embeddings (and a vector size) is checked
/// once the model is resolved (<see cref="CheckVendor"/>).
/// </summary>
public static class EmbeddingsRequestReader
{
    public const int MaxInputs = 2048;

    private static readonly ObjectFields Known = new("model", "input", "encoding_format", "dimensions", "user");

    /// <summary>The request in internal terms, or null with every fault in <paramref name="errors"/>.</summary>
    public static TaskRequest? Read(ReadOnlyMemory<byte> body, out List<FieldError> errors)
    {
        errors = [];
        using var document = TaskRequestReader.Parse(body, errors);
        if (document is null)
        {
            return null;
        }

        var fields = Known.Start();
        string? model = null, user = null;
        List<string>? inputs = null;
        int? dimensions = null;
        var base64 = false;
        foreach (var property in document.RootElement.EnumerateObject())
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
                case "input":
                    inputs = Inputs(value, errors);
                    break;
                case "encoding_format":
                    base64 = value.ValueKind == JsonValueKind.String && value.GetString() == "base64";
                    if (value.ValueKind != JsonValueKind.String || value.GetString() is not ("float" or "base64"))
                    {
                        errors.Add(new FieldError(name, "must be float or base64"));
                    }

                    break;
                case "dimensions":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var size) || size < 1 || size > 16_384)
                    {
                        errors.Add(new FieldError(name, "must be an integer from 1 to 16384"));
                    }
                    else
                    {
                        dimensions = size;
                    }

                    break;
                case "user":
                    user = TaskRequestReader.Text(name, value, SchemaLimits.MaxUserLength, errors);
                    break;
                default:
                    errors.Add(new FieldError(name, "is not a parameter of the embeddings API"));
                    break;
            }
        }

        if (model is null && !errors.Exists(e => e.Field == "model"))
        {
            errors.Add(new FieldError("model", "is required: a model alias of the gateway or provider/model"));
        }

        if (inputs is null && !errors.Exists(e => e.Field.StartsWith("input", StringComparison.Ordinal)))
        {
            errors.Add(new FieldError("input", "is required: a text or an array of texts"));
        }

        return errors.Count > 0 ? null : new TaskRequest { Model = model, Inputs = inputs, Dimensions = dimensions, Base64 = base64, User = user };
    }

    /// <summary>What the serving vendor cannot do for the request, named with the vendor.</summary>
    public static void CheckVendor(TaskRequest request, string provider, IVendorAdapter vendor, List<FieldError> errors)
    {
        var named = provider == vendor.Name ? provider : $"{provider} ({vendor.Name})";
        if (vendor.EmbeddingsPath is null)
        {
            errors.Add(new FieldError("model", $"names a model of {named}, which offers no embeddings"));
        }
        else if (request.Dimensions is not null && !vendor.EmbeddingDimensions)
        {
            errors.Add(new FieldError("dimensions", $"is not supported by {named}"));
        }
    }

    private static List<string>? Inputs(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return [TaskRequestReader.Text("input", value, SchemaLimits.MaxTextLength, errors)!];
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is 0 or > MaxInputs)
        {
            errors.Add(new FieldError("input", $"must be a text or an array of 1 to {MaxInputs} texts"));
            return null;
        }

        var inputs = new List<string>(value.GetArrayLength());
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = $"input[{index++}]";
            if (item.ValueKind is JsonValueKind.Number or JsonValueKind.Array)
            {
                errors.Add(new FieldError(path, "token arrays are not supported: send the text"));
            }
            else if (item.ValueKind != JsonValueKind.String)
            {
                errors.Add(new FieldError(path, $"must be a text, not {TaskRequestReader.Describe(item.ValueKind)}"));
            }
            else
            {
                inputs.Add(TaskRequestReader.Text(path, item, SchemaLimits.MaxTextLength, errors)!);
            }
        }

        return inputs;
    }
}
