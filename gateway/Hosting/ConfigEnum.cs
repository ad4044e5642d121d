using System.Collections.Frozen;

namespace Gateway.Hosting;

/// <summary>
/// A mode written in configuration (<c>round-robin</c>, <c>approle</c>, <c>closed</c>) read as an enum by the feature's
/// validator, so the code after it switches on values rather than strings, and a wrong spelling is one error among the
/// others rather than a binding exception that hides them.
/// </summary>
internal static class ConfigEnum<T> where T : struct, Enum
{
    // PascalCase names in kebab case: RoundRobin is round-robin, Approle is approle.
    private static readonly FrozenDictionary<string, T> BySpelling = Enum.GetValues<T>()
        .ToFrozenDictionary(Spelling, StringComparer.OrdinalIgnoreCase);

    private static readonly string Choices = string.Join(", ", Enum.GetValues<T>().Select(v => $"'{Spelling(v)}'"));

    /// <summary>How configuration writes a value.</summary>
    public static string Spelling(T value)
        => string.Concat(value.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>The value written at <paramref name="setting"/>; the first value (the default) with an error when it is none.</summary>
    public static T Parse(string? text, string setting, List<string> errors)
    {
        if (text is not null && BySpelling.TryGetValue(text, out var value))
        {
            return value;
        }

        errors.Add($"{setting} must be one of {Choices} (was '{text}').");
        return default;
    }
}
