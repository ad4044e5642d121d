using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Gateway.Secrets;

/// <summary>
/// Every secret value the process has resolved (vendor keys, Vault tokens, AppRole ids), so logs, traces and errors can
/// be scrubbed of them whatever the log level. Has no dependencies, so logging can use it without a cycle.
/// </summary>
public sealed partial class SecretRegistry
{
    public const string Mask = "[redacted]";

    // Values shorter than this are not secrets worth masking (and masking them would mangle ordinary text).
    private const int MinLength = 8;
    private readonly ConcurrentDictionary<string, byte> _values = new(StringComparer.Ordinal);
    private volatile string[] _snapshot = [];

    /// <summary>Remembers a secret value to mask from now on.</summary>
    public void Add(string? value)
    {
        if (value is { Length: >= MinLength } && _values.TryAdd(value, 0))
        {
            // Longest first, so a value that contains another is masked whole.
            _snapshot = [.. _values.Keys.OrderByDescending(v => v.Length)];
        }
    }

    /// <summary>Changes whenever a secret value is added: what was checked against one version holds for it only.</summary>
    public object Version => _snapshot;

    /// <summary>True when the text holds a known secret value or a credential header.</summary>
    public bool Leaks(string text)
    {
        foreach (var value in _snapshot)
        {
            if (text.Contains(value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        // A credential header needs its ':' or '=' (most texts checked, a path or a model name, have neither).
        return text.AsSpan().IndexOfAny(':', '=') >= 0 && CredentialHeader().IsMatch(text);
    }

    /// <summary>The text with every known secret value and every credential header value masked.</summary>
    public string Redact(string text)
    {
        if (!Leaks(text))
        {
            return text;
        }

        foreach (var value in _snapshot)
        {
            text = text.Replace(value, Mask, StringComparison.Ordinal);
        }

        return CredentialHeader().Replace(text, m => m.Groups["name"].Value + Mask);
    }

    // "Authorization: Bearer …", "x-api-key=…", "X-Vault-Token: …" and the like, as they appear in dumped headers. A value
    // that opens with <, [ or { is a placeholder in help text ("Bearer <key>") or already masked, not a credential.
    [GeneratedRegex(@"(?<name>\b(?:authorization|proxy-authorization|x-api-key|api-key|x-vault-token)\b\s*[:=]\s*)(?:(?:bearer|basic|token|digest|negotiate)\s+)?(?!(?:bearer|basic|token|digest|negotiate)\b)(?![<\[{])[^\s,;""']+", RegexOptions.IgnoreCase)]
    private static partial Regex CredentialHeader();
}
