using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Telemetry;

/// <summary>
/// Replaces personal data and credentials in prompt and completion text with typed placeholders before any of it is
/// logged: credentials first (private keys, bearer tokens, OpenAI, Anthropic, AWS, GitHub and gateway keys, then any
/// long high-entropy token), then e-mail addresses, IBANs (mod-97 checked), card numbers (Luhn checked), IP addresses,
/// phone numbers, and the configured patterns. Every expression is compiled once and runs with a match timeout: a
/// pattern that backtracks without end costs at most that long, and the text it was checking is then withheld whole.
/// </summary>
public sealed partial class PromptRedactor
{
    /// <summary>What stands for the whole text when a pattern ran out of time on it.</summary>
    public const string Withheld = "[WITHHELD: redaction timed out]";

    /// <summary>The time any one expression may take on one text.</summary>
    public static readonly TimeSpan DefaultMatchTimeout = TimeSpan.FromMilliseconds(100);

    private const int MinSecretLength = 20;

    private readonly (Regex Pattern, string Placeholder)[] _configured;
    private readonly TimeSpan _timeout;

    /// <param name="patterns">Extra patterns by placeholder name (<c>EMPLOYEE_ID</c> → <c>[EMPLOYEE_ID]</c>); checked by <see cref="Validate"/>.</param>
    public PromptRedactor(IReadOnlyDictionary<string, string>? patterns = null, TimeSpan? matchTimeout = null)
    {
        _timeout = matchTimeout ?? DefaultMatchTimeout;
        _configured = [.. (patterns ?? new Dictionary<string, string>()).Select(p =>
            (new Regex(p.Value, RegexOptions.CultureInvariant | RegexOptions.Compiled, _timeout), $"[{p.Key}]"))];
    }

    /// <summary>Why a configured pattern cannot be used (one message per bad entry); empty when all can.</summary>
    public static IEnumerable<string> Validate(IReadOnlyDictionary<string, string>? patterns, string path)
    {
        foreach (var (name, pattern) in patterns ?? new Dictionary<string, string>())
        {
            if (!PlaceholderName().IsMatch(name))
            {
                yield return $"{path}:{name}: a placeholder name is 1-40 letters, digits or '_', starting with a letter.";
            }

            string? error = null;
            try
            {
                if (new Regex(pattern, RegexOptions.CultureInvariant).IsMatch(""))
                {
                    error = "matches the empty string, so it would match everywhere.";
                }
            }
            catch (ArgumentException invalid)
            {
                error = $"is not a valid regular expression ({invalid.Message})";
            }

            if (error is not null)
            {
                yield return $"{path}:{name}: the pattern {error}";
            }
        }
    }

    /// <summary>The text with everything it detects replaced by placeholders, cut to <paramref name="maxLength"/> characters.</summary>
    public string Redact(string text, int maxLength = int.MaxValue)
    {
        string redacted;
        try
        {
            redacted = RedactAll(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return Withheld;
        }

        return redacted.Length <= maxLength ? redacted : string.Concat(redacted.AsSpan(0, maxLength), "…[truncated]");
    }

    private string RedactAll(string text)
    {
        text = PrivateKey().Replace(text, "[PRIVATE_KEY]");
        text = BearerToken().Replace(text, m => m.Groups["scheme"].Value + " [BEARER_TOKEN]");
        text = AnthropicKey().Replace(text, "[ANTHROPIC_KEY]");
        text = OpenAiKey().Replace(text, "[OPENAI_KEY]");
        text = AwsAccessKey().Replace(text, "[AWS_KEY]");
        text = GitHubToken().Replace(text, "[GITHUB_TOKEN]");
        text = GatewayKey().Replace(text, "[GATEWAY_KEY]");
        text = Jwt().Replace(text, "[JWT]");
        text = Email().Replace(text, "[EMAIL]");
        text = HighEntropy().Replace(text, m => IsHighEntropy(m.Value) ? "[SECRET]" : m.Value);
        text = Iban().Replace(text, m => IsIban(m.Value) ? "[IBAN]" : m.Value);
        text = CardNumber().Replace(text, m => PassesLuhn(m.Value) ? "[CARD]" : m.Value);
        text = IPv4().Replace(text, "[IP]");
        text = IPv6Candidate().Replace(text, m => IsIPv6(m.Value) ? "[IP]" : m.Value);
        text = Phone().Replace(text, m => DigitCount(m.Value) is >= 9 and <= 15 ? "[PHONE]" : m.Value);
        foreach (var (pattern, placeholder) in _configured)
        {
            text = pattern.Replace(text, placeholder);
        }

        return text;
    }

    // A credential-looking token: long, with upper and lower case letters and digits, and at least 3.5 bits per character.
    private static bool IsHighEntropy(string token)
    {
        if (token.Length < MinSecretLength || Guid.TryParse(token, out _))
        {
            return false;
        }

        bool upper = false, lower = false, digit = false;
        Span<int> counts = stackalloc int[128];
        foreach (var c in token)
        {
            upper |= char.IsAsciiLetterUpper(c);
            lower |= char.IsAsciiLetterLower(c);
            digit |= char.IsAsciiDigit(c);
            counts[c & 127]++;
        }

        if (!(upper && lower && digit))
        {
            return false;
        }

        var entropy = 0.0;
        foreach (var count in counts)
        {
            if (count > 0)
            {
                var p = (double)count / token.Length;
                entropy -= p * Math.Log2(p);
            }
        }

        return entropy >= 3.5;
    }

    // ISO 13616: move the first four characters to the end, letters to numbers (A = 10), and the number mod 97 is 1.
    private static bool IsIban(string candidate)
    {
        var compact = new StringBuilder(34);
        foreach (var c in candidate)
        {
            if (c != ' ')
            {
                compact.Append(char.ToUpperInvariant(c));
            }
        }

        if (compact.Length is < 15 or > 34)
        {
            return false;
        }

        var rearranged = compact.ToString(4, compact.Length - 4) + compact.ToString(0, 4);
        var remainder = 0;
        foreach (var c in rearranged)
        {
            var value = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetterUpper(c) ? c - 'A' + 10 : -1;
            if (value < 0)
            {
                return false;
            }

            remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
        }

        return remainder == 1;
    }

    private static bool PassesLuhn(string candidate)
    {
        var digits = DigitCount(candidate);
        if (digits is < 13 or > 19)
        {
            return false;
        }

        var sum = 0;
        var doubled = false;
        for (var i = candidate.Length - 1; i >= 0; i--)
        {
            if (!char.IsAsciiDigit(candidate[i]))
            {
                continue;
            }

            var d = candidate[i] - '0';
            if (doubled && (d *= 2) > 9)
            {
                d -= 9;
            }

            sum += d;
            doubled = !doubled;
        }

        return sum % 10 == 0;
    }

    // An IPv6 address as text shows it: three groups or more, or a compressed one with a full group (fe80::1), or ::1 —
    // not a scope operator between short hex-looking names (a::b).
    private static bool IsIPv6(string candidate)
    {
        var groups = candidate.Split(':', StringSplitOptions.RemoveEmptyEntries);
        var shaped = groups.Length >= 3 || (candidate.Contains("::", StringComparison.Ordinal) && groups.Any(g => g.Length >= 3)) || candidate == "::1";
        return shaped && IPAddress.TryParse(candidate, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
    }

    private static int DigitCount(string text) => text.Count(char.IsAsciiDigit);

    private const RegexOptions Options = RegexOptions.CultureInvariant;
    private const int TimeoutMs = 100;

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]{0,39}$", Options)]
    private static partial Regex PlaceholderName();

    [GeneratedRegex(@"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", Options, TimeoutMs)]
    private static partial Regex PrivateKey();

    [GeneratedRegex(@"(?<scheme>\b[Bb]earer|\bBEARER)\s+[A-Za-z0-9\-._~+/]{8,}=*", Options, TimeoutMs)]
    private static partial Regex BearerToken();

    [GeneratedRegex(@"\bsk-ant-[A-Za-z0-9]{2,8}\d{2}-[A-Za-z0-9_\-]{20,}", Options, TimeoutMs)]
    private static partial Regex AnthropicKey();

    [GeneratedRegex(@"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}", Options, TimeoutMs)]
    private static partial Regex OpenAiKey();

    [GeneratedRegex(@"\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[A-Z0-9]{16}\b", Options, TimeoutMs)]
    private static partial Regex AwsAccessKey();

    [GeneratedRegex(@"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b", Options, TimeoutMs)]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"\bgwk_[A-Za-z0-9_\-]{20,}", Options, TimeoutMs)]
    private static partial Regex GatewayKey();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", Options, TimeoutMs)]
    private static partial Regex Jwt();

    [GeneratedRegex(@"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b", Options, TimeoutMs)]
    private static partial Regex Email();

    // Runs of key-alphabet characters (base64, base64url, hex…); IsHighEntropy decides.
    [GeneratedRegex(@"(?<![A-Za-z0-9_\-+/=])[A-Za-z0-9_\-+/]{20,}={0,2}(?![A-Za-z0-9_\-+/=])", Options, TimeoutMs)]
    private static partial Regex HighEntropy();

    [GeneratedRegex(@"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", Options, TimeoutMs)]
    private static partial Regex Iban();

    // 13-19 digits, grouped or not, starting as card numbers do (2-6: Mastercard, Amex, Visa, Discover…).
    [GeneratedRegex(@"(?<![\d.\-])[2-6](?:[ \-]?\d){12,18}(?![\d.])", Options, TimeoutMs)]
    private static partial Regex CardNumber();

    [GeneratedRegex(@"(?<![\d.])(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?![\d.])", Options, TimeoutMs)]
    private static partial Regex IPv4();

    [GeneratedRegex(@"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])", Options, TimeoutMs)]
    private static partial Regex IPv6Candidate();

    // International (+…) or national with separators: (555) 123-4567, 555-123-4567, 020 7946 0958.
    [GeneratedRegex(@"(?<![\w+\-])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?\d{2,4}(?:[ .\-]\d{2,4}){1,3}|\d{2,4}(?:[ .\-]\d{2,4}){2,4})(?![\w\-])|(?<![\w+])\+\d{9,15}(?!\w)", Options, TimeoutMs)]
    private static partial Regex Phone();
}
