using System.Text.RegularExpressions;

namespace Gateway.Transforms.Tasks;

/// <summary>Makes a vendor's error message safe to show a caller: bounded, one line, anything key-like masked.</summary>
public static partial class ErrorMessageSanitizer
{
    public const int MaxLength = 500;

    public static string Sanitize(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return "";
        }

        var text = KeyLike().Replace(message, "[redacted]");
        text = Whitespace().Replace(text, " ").Trim();
        return text.Length <= MaxLength ? text : text[..MaxLength] + "…";
    }

    // Vendor key shapes (sk-…, sk-ant-…, gwk_…), bearer tokens, and any long run of key characters containing a digit.
    [GeneratedRegex(@"(?i)\bbearer\s+\S+|\b(?:sk|gwk|key|co)[-_][A-Za-z0-9_\-\*\.]{5,}[A-Za-z0-9_\-\*]|\b(?=[A-Za-z0-9_\-]*\d)[A-Za-z0-9_\-]{24,}")]
    private static partial Regex KeyLike();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
