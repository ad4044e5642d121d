using System.Diagnostics;
using Gateway.Telemetry;

namespace Gateway.Tests.Formatting;

/// <summary>
/// The redaction corpus: every kind of personal data and credential the prompt logs must never carry, each in prose,
/// in JSON and in code, comes out as its typed placeholder with nothing of the value left; ordinary text (numbers, dates,
/// versions, ids, hashes, code) comes out unchanged; a pattern that backtracks without end withholds the text instead
/// of stalling the request.
/// </summary>
public sealed class PromptRedactorTests
{
    private static readonly PromptRedactor Redactor = new();

    // Kind → placeholder and real-shaped values (cards are test numbers that pass Luhn, IBANs pass mod-97).
    private static readonly (string Placeholder, string[] Values)[] Kinds =
    [
        ("[EMAIL]", ["jane.doe@example.com", "ops+alerts@mail.corp.example.co.uk", "R.Smith_92@sub.example.org"]),
        ("[PHONE]", ["+1 415 555 2671", "(212) 555-0143", "+44 20 7946 0958", "+4915123456789", "030-1234-5678"]),
        ("[CARD]", ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011111111111117", "4012888888881881"]),
        ("[IBAN]", ["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606", "NL91ABNA0417164300"]),
        ("[IP]", ["203.0.113.7", "10.0.0.12", "2001:db8::8a2e:370:7334", "fe80::1ff:fe23:4567:890a"]),
        ("[BEARER_TOKEN]", ["Bearer eyZhbGciOiJIUzI1NiJ9abc.def", "bearer 0123456789abcdefTOKEN"]),
        ("[OPENAI_KEY]", ["sk-proj-AbCdEf0123456789GhIjKlMnOpQrStUvWx", "sk-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"]),
        ("[ANTHROPIC_KEY]", ["sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa-_AbCd", "sk-ant-admin01-QWERTYuiop1234567890asdfGHJK"]),
        ("[AWS_KEY]", ["AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"]),
        ("[GITHUB_TOKEN]", ["ghp_1234567890abcdefghijklmnopqrstuvwxyz", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF"]),
        ("[GATEWAY_KEY]", ["gwk_8Qe0vX2-rT9pLmZ4sKd7YbW1nC6uJf3h"]),
        ("[JWT]", ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"]),
        ("[SECRET]", ["Wq3x9ZkLm2Np7Rs4Tv8Yb1Cd5Fg6Hj0Kl3Mn9Pq2", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1eF"]),
        ("[PRIVATE_KEY]", ["-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1b2c3\n-----END RSA PRIVATE KEY-----"]),
    ];

    private static readonly Func<string, string>[] Settings =
    [
        v => $"Hi, please summarise the thread and reply to {v} before Friday.",
        v => $$"""{"messages":[{"role":"user","content":"the value is {{v.Replace("\n", "\\n", StringComparison.Ordinal)}} ok"}]}""",
        v => $"var credential = \"{v}\"; // from the ticket",
    ];

    public static IEnumerable<TestCaseData> Sensitive()
    {
        foreach (var (placeholder, values) in Kinds)
        {
            foreach (var value in values)
            {
                for (var s = 0; s < Settings.Length; s++)
                {
                    yield return new TestCaseData(Settings[s](value), value, placeholder).SetName($"{placeholder} {Short(value)} in {(new[] { "prose", "json", "code" })[s]}");
                }
            }
        }
    }

    // Text a prompt log should keep as it is.
    public static readonly string[] Clean =
    [
        "Summarize the following email in two sentences.",
        "The meeting moved to 2026-11-28 at 10:30 UTC.",
        "Invoice INV-2026-000413 is due on 12/01/2026.",
        "Order number 12345678 shipped in 3 boxes.",
        "Unix time 1764324000000 in milliseconds.",
        "Version 4.2.1 fixed the bug; 10.0.100 is the SDK.",
        "Call me back after 5 pm.",
        "Temperature was 21.5 degrees, humidity 40%.",
        "The answer is 42.",
        "See https://docs.example.com/guide/getting-started#install for details.",
        "git commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39 fixed it",
        "Request id 8f14e45f-ceea-467f-a9b9-2d5c4a0e1f22 failed.",
        "std::vector<int> values; values.push_back(1);",
        "for (int i = 0; i < 10; i++) { sum += i; }",
        "SELECT id, name FROM users WHERE created_at > '2026-01-01';",
        "{\"model\":\"gpt-6-luna\",\"max_tokens\":256,\"temperature\":0.2}",
        "The ratio is 3:2:1 across the three teams.",
        "Time stamp 10:30:00 and 23:59:59.",
        "Room 4B, building 12, floor 3.",
        "Use the OPENAI_API_KEY environment variable, never a literal key.",
        "Authorization header goes to the gateway, not the vendor.",
        "The bearer of this letter is my colleague.",
        "ISBN 978-3-16-148410-0 is the book.",
        "The total was USD 1,234,567.89 last quarter.",
        "Postcode SW1A 1AA, London.",
        "Tracking code 1Z999AA10123456784 is not a card.",
        "Population 8,336,817 in 2022.",
        "def add(a, b):\n    return a + b",
        "console.log(`Hello, ${name}!`);",
        "kubectl get pods -n ai-gateway -o wide",
        "docker run -p 8080:8080 ai-gateway:1.4.0",
        "HTTP/1.1 200 OK",
        "Listen on port 5000 and 5001.",
        "The quick brown fox jumps over the lazy dog.",
        "Ticket PROJ-1234: login fails for some users.",
        "Build 2026.11.28 passed 1204 of 1210 checks.",
        "Score 98.6 out of 100.",
        "Lat 51.5074, lon -0.1278.",
        "Flight LH 400 departs at 13:45.",
        "CamelCaseIdentifierNamesAreFine in code.",
        "a_very_long_snake_case_identifier_name_for_testing",
        "The variable userAccountBalanceInCents holds cents.",
        "Section 3.4.2 explains retries.",
        "Chapter 12, pages 104-118.",
        "Price: 19.99 EUR incl. VAT.",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "Sehr geehrte Damen und Herren, vielen Dank.",
        "Merci beaucoup pour votre réponse rapide.",
        "今日は良い天気ですね。",
        "Emoji are fine 👍 too.",
        "The hash sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 is public.",
        "Path /api/ai/openai/v1/models lists models.",
        "x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]",
    ];

    [TestCaseSource(nameof(Sensitive))]
    public void SensitiveValue_IsReplacedByItsPlaceholder_AndNothingOfItRemains(string text, string value, string placeholder)
    {
        var redacted = Redactor.Redact(text);

        Assert.That(redacted, Does.Contain(placeholder));
        Assert.That(redacted, Does.Not.Contain(Core(value)), "no recognisable part of the value is left");
    }

    [TestCaseSource(nameof(Clean))]
    public void CleanText_IsUnchanged(string text) => Assert.That(Redactor.Redact(text), Is.EqualTo(text));

    [Test]
    public void Corpus_IsLargeEnough()
    {
        Assert.That(Sensitive().Count(), Is.GreaterThanOrEqualTo(100));
        Assert.That(Clean, Has.Length.GreaterThanOrEqualTo(50));
        Assert.That(Kinds.Select(k => k.Placeholder).Distinct().Count(), Is.EqualTo(Kinds.Length));
    }

    [TestCase("4111 1111 1111 1112", "a card number that fails Luhn")]
    [TestCase("DE89370400440532013001", "an IBAN that fails mod-97")]
    [TestCase("1.2.3.4.5", "five numbers are not an IPv4 address")]
    public void ChecksumFailures_AreNotRedacted(string text, string why)
        => Assert.That(Redactor.Redact(text), Is.EqualTo(text), why);

    [Test]
    public void ConfiguredPatterns_UseTheirOwnPlaceholder()
    {
        var redactor = new PromptRedactor(new Dictionary<string, string> { ["EMPLOYEE_ID"] = @"\bEMP-\d{6}\b" });
        Assert.That(redactor.Redact("Ask EMP-123456 or jane@example.com."), Is.EqualTo("Ask [EMPLOYEE_ID] or [EMAIL]."));
    }

    [Test]
    public void CatastrophicPattern_TimesOut_AndWithholdsTheText()
    {
        var redactor = new PromptRedactor(new Dictionary<string, string> { ["EVIL"] = "^(a+)+$" }, TimeSpan.FromMilliseconds(50));
        var text = new string('a', 40) + "!";
        var clock = Stopwatch.StartNew();

        var redacted = redactor.Redact(text);

        Assert.That(redacted, Is.EqualTo(PromptRedactor.Withheld));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "bounded by the match timeout, not by the backtracking");
    }

    [Test]
    public void LongText_IsCutAfterRedaction()
    {
        var redacted = Redactor.Redact("mail jane.doe@example.com " + new string('x', 500), maxLength: 40);
        Assert.That(redacted, Does.StartWith("mail [EMAIL] xxx").And.EndWith("…[truncated]"));
        Assert.That(redacted, Has.Length.EqualTo(40 + "…[truncated]".Length));
    }

    [Test]
    public void Validate_ListsEveryBadPattern()
    {
        var errors = PromptRedactor.Validate(new Dictionary<string, string>
        {
            ["OK"] = @"\bEMP-\d{6}\b",
            ["BROKEN"] = "(unclosed",
            ["EMPTY"] = "x*",
            ["bad name!"] = "abc",
        }, "Gateway:PromptLogging:Patterns").ToList();

        Assert.That(errors, Has.Count.EqualTo(3));
        Assert.That(errors, Has.Some.Contains("BROKEN").And.Contains("not a valid regular expression"));
        Assert.That(errors, Has.Some.Contains("EMPTY").And.Contains("empty string"));
        Assert.That(errors, Has.Some.Contains("bad name!"));
    }

    // The part of a value that must not survive: its digits for numbers, its body for keys.
    private static string Core(string value)
    {
        var digits = new string([.. value.Where(char.IsAsciiDigit)]);
        return value.Contains('@', StringComparison.Ordinal) ? value.Split('@')[0]
            : value.StartsWith("-----", StringComparison.Ordinal) ? "MIIEowIBAAKCAQEA1b2c3"
            : value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? value[7..]
            : digits.Length >= 9 && digits.Length * 2 >= value.Length ? value
            : value[Math.Min(8, value.Length / 2)..];
    }

    private static string Short(string value) => value.Length <= 14 ? value.Replace("\n", " ", StringComparison.Ordinal) : value[..14] + "…";
}
