using Gateway.Transforms.Tasks;

namespace Gateway.Tests.Formatting;

public sealed class ErrorMessageSanitizerTests
{
    [TestCase("Incorrect API key provided: sk-proj-****abcd1234.", "Incorrect API key provided: [redacted].")]
    [TestCase("invalid x-api-key sk-ant-api03-AbCdEf123456", "invalid x-api-key [redacted]")]
    [TestCase("token Bearer abc.def.ghi rejected", "token [redacted] rejected")]
    [TestCase("request id 5b0c1d0e7f8a9b0c1d2e3f4a5b6c7d8e failed", "request id [redacted] failed")]
    [TestCase("Overloaded", "Overloaded")]
    [TestCase("line one\n  line two", "line one line two")]
    [TestCase(null, "")]
    public void Sanitize_MasksKeysAndFoldsLines(string? message, string expected)
        => Assert.That(ErrorMessageSanitizer.Sanitize(message), Is.EqualTo(expected));

    [Test]
    public void Sanitize_LongMessage_IsCut()
        => Assert.That(ErrorMessageSanitizer.Sanitize(new string('a', 2000) + " b"), Has.Length.EqualTo(ErrorMessageSanitizer.MaxLength + 1));
}
