using Gateway.Transforms.Passthrough;

namespace Gateway.Tests.Passthrough;

public sealed class PassthroughPathTests
{
    [TestCase("/api/ai/openai/v1/chat/completions", 3, "/v1/chat/completions")]
    [TestCase("/api/ai/openai/v1/models?limit=2", 3, "/v1/models")]
    [TestCase("/api/ai/openai", 3, "/")]
    [TestCase("/api/ai/openai/", 3, "/")]
    [TestCase("/api/ai/openai//x", 3, "//x")]
    [TestCase("/api/ai/openai/v1/files/a%2Fb/content", 3, "/v1/files/a%2Fb/content")]
    [TestCase("/api/ai/openai/v1/./models/../models/x", 3, "/v1/models/x")]
    [TestCase("/api/ai/openai/v1/%2E/models/%2e%2E/m", 3, "/v1/m")]
    [TestCase("/api/ai/openai/v1/models/x/..", 3, "/v1/models/")]
    [TestCase("http://gateway.internal/api/ai/openai/v1/models", 3, "/v1/models")]
    [TestCase("/v1/models", 0, "/v1/models")]
    public void TryGetBelow_KeepsTheCallersSpelling_AndRemovesDotSegmentsOnce(string target, int prefixSegments, string expected)
    {
        Assert.That(PassthroughPath.TryGetBelow(target, prefixSegments, out var path, out var error), Is.True, error);
        Assert.That(path, Is.EqualTo(expected));
    }

    [TestCase("/api/ai/openai/v1/models/x%2F..%2Fadmin")]
    [TestCase("/api/ai/openai/v1/models/x%2f%2e%2e%2fadmin")]
    [TestCase("/api/ai/openai/v1/models/x%5C..%5Cadmin")]
    [TestCase("/api/ai/openai/v1/models/.%2Fx")]
    public void TryGetBelow_DotSegmentBehindAnEncodedSlash_IsRefused(string target)
    {
        Assert.That(PassthroughPath.TryGetBelow(target, 3, out _, out var error), Is.False);
        Assert.That(error, Does.Contain("encoded slash"));
    }
}
