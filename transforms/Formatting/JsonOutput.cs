using System.Text.Json;

namespace Gateway.Transforms.Formatting;

/// <summary>Checks that a model's output is one JSON value, as <c>format: json</c> promises the caller.</summary>
public static class JsonOutput
{
    /// <summary>
    /// The output as JSON text, or null when it does not parse. A single surrounding Markdown code fence
    /// (<c>```json … ```</c>), which models add out of habit, is removed first.
    /// </summary>
    public static string? Normalize(string output)
    {
        var text = output.AsSpan().Trim();
        if (text.StartsWith("```"))
        {
            var firstLine = text.IndexOf('\n');
            var end = text.LastIndexOf("```");
            if (firstLine < 0 || end <= firstLine)
            {
                return null;
            }

            text = text[(firstLine + 1)..end].Trim();
        }

        if (text.IsEmpty)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text.ToString());
            return document.RootElement.GetRawText();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
