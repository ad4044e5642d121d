namespace Gateway.Tests.Infrastructure;

/// <summary>One vendor's passthrough route as the tests drive it, with the fixtures of its documented shapes.</summary>
public sealed record VendorCase(
    string Vendor,
    string GatewayPath,
    string VendorPath,
    string ResponseFixture,
    string StreamFixture,
    string CredentialHeader,
    string CredentialPrefix,
    string RequestBody)
{
    public static readonly VendorCase OpenAi = new(
        "openai", "/api/ai/openai/v1/chat/completions", "/v1/chat/completions", "openai/chat-completion.json", "openai/chat-completion-stream.sse",
        "Authorization", "Bearer ",
        """{"model":"gpt-6-luna","messages":[{"role":"user","content":"Summarize the following email."}]}""");

    public static readonly VendorCase Anthropic = new(
        "anthropic", "/api/ai/anthropic/v1/messages", "/v1/messages", "anthropic/message.json", "anthropic/message-stream.sse",
        "x-api-key", "",
        """{"model":"claude-sonnet-5-5","max_tokens":256,"messages":[{"role":"user","content":"Summarize the following email."}]}""");

    public static readonly VendorCase Cohere = new(
        "cohere", "/api/ai/cohere/v2/chat", "/v2/chat", "cohere/chat.json", "cohere/chat-stream.sse",
        "Authorization", "Bearer ",
        """{"model":"command-r-08-2024","messages":[{"role":"user","content":"Summarize the following email."}]}""");

    public static IEnumerable<VendorCase> All => [OpenAi, Anthropic, Cohere];

    public string ReadFixture(string name) => File.ReadAllText(Path.Combine(RepoPaths.Fixtures, name));

    /// <summary>The SSE events of the stream fixture, each with its terminating blank line.</summary>
    public IReadOnlyList<string> StreamEvents() =>
        ReadFixture(StreamFixture).Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e + "\n\n").ToList();

    public override string ToString() => Vendor;
}
