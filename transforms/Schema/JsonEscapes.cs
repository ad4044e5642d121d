using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Gateway.Transforms.Schema;

/// <summary>
/// Finds strings and property names of a (well-formed) JSON document whose <c>\u</c> escapes do not make valid
/// UTF-16 — a lone surrogate such as <c>"\ud800"</c> — which <see cref="JsonElement.GetString"/> cannot return.
/// </summary>
internal static class JsonEscapes
{
    /// <summary>True when every string is valid; otherwise adds one error per bad string, named by its path.</summary>
    public static bool AllStringsValid(ReadOnlySpan<byte> json, List<FieldError> errors)
    {
        var before = errors.Count;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = SchemaLimits.MaxDepth });
        var path = new List<Frame>(SchemaLimits.MaxDepth);
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    var name = Text(ref reader);
                    path[^1] = path[^1] with { Name = name ?? Raw(ref reader) };
                    if (name is null)
                    {
                        errors.Add(new FieldError(Path(path), "is a property name with an invalid \\u escape (a lone UTF-16 surrogate)"));
                    }

                    continue;
                case JsonTokenType.String when Text(ref reader) is null:
                    errors.Add(new FieldError(Path(path), "holds an invalid \\u escape (a lone UTF-16 surrogate); escape whole surrogate pairs or send the character as UTF-8"));
                    break;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    path.Add(new Frame(reader.TokenType == JsonTokenType.StartArray, null, 0));
                    continue;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    path.RemoveAt(path.Count - 1);
                    break;
            }

            // A value ended: the enclosing array moves to its next index.
            if (path.Count > 0 && path[^1].Array)
            {
                path[^1] = path[^1] with { Index = path[^1].Index + 1 };
            }
        }

        return errors.Count == before;
    }

    private static string? Text(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.GetString();
        }

        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    // The name as written (escapes and all), for naming a property whose name cannot be decoded.
    private static string Raw(ref Utf8JsonReader reader)
        => Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);

    private static string Path(List<Frame> path)
    {
        var text = new StringBuilder();
        foreach (var frame in path)
        {
            if (frame.Array)
            {
                text.Append('[').Append(frame.Index).Append(']');
            }
            else if (frame.Name is not null)
            {
                text.Append(text.Length == 0 ? "" : ".").Append(frame.Name);
            }
        }

        return text.Length == 0 ? "$" : text.ToString();
    }

    private readonly record struct Frame(bool Array, string? Name, int Index);
}
