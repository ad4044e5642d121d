using Gateway.Transforms.Contracts;
using Gateway.Transforms.Vendors;
using Gateway.Transforms.Vendors.Anthropic;
using Gateway.Transforms.Vendors.Cohere;
using Gateway.Transforms.Vendors.OpenAi;

namespace Gateway.Tests.Vendors.Usage;

// One class per vendor and shape, each against the vendor's documented fixture (see VENDOR-SHAPES.md).

/// <summary>OpenAI Chat Completions, JSON: <c>usage.prompt_tokens</c> / <c>completion_tokens</c>.</summary>
public sealed class OpenAiChatJsonUsageTests : PassthroughUsageCase
{
    protected override IVendorAdapter Adapter { get; } = new OpenAiVendor();
    protected override string Fixture => "openai/chat-completion.json";
    protected override string ContentType => "application/json";
    protected override TokenUsage ExpectedUsage => new(28, 11);
    protected override string? ExpectedModel => "gpt-6-luna-2026-09-22";
}

/// <summary>OpenAI Chat Completions, SSE with <c>stream_options.include_usage</c>: the last chunk's usage.</summary>
public sealed class OpenAiChatStreamUsageTests : PassthroughStreamUsageCase
{
    protected override IVendorAdapter Adapter { get; } = new OpenAiVendor();
    protected override string Fixture => "openai/chat-completion-stream.sse";
    protected override string ContentType => "text/event-stream; charset=utf-8";
    protected override TokenUsage ExpectedUsage => new(28, 11);
    protected override string? ExpectedModel => "gpt-6-luna-2026-09-22";
}

/// <summary>OpenAI Responses API, JSON: <c>usage.input_tokens</c> / <c>output_tokens</c>.</summary>
public sealed class OpenAiResponsesJsonUsageTests : PassthroughUsageCase
{
    protected override IVendorAdapter Adapter { get; } = new OpenAiVendor();
    protected override string Fixture => "openai/response.json";
    protected override string ContentType => "application/json";
    protected override TokenUsage ExpectedUsage => new(36, 11);
    protected override string? ExpectedModel => "gpt-6-luna-2026-09-22";
}

/// <summary>OpenAI Responses API, SSE: the usage of <c>response.completed</c>.</summary>
public sealed class OpenAiResponsesStreamUsageTests : PassthroughStreamUsageCase
{
    protected override IVendorAdapter Adapter { get; } = new OpenAiVendor();
    protected override string Fixture => "openai/response-stream.sse";
    protected override string ContentType => "text/event-stream";
    protected override TokenUsage ExpectedUsage => new(12, 9);
    protected override string? ExpectedModel => "gpt-6-luna-2026-09-22";
}

/// <summary>Anthropic Messages, JSON: <c>usage.input_tokens</c> / <c>output_tokens</c>.</summary>
public sealed class AnthropicMessagesJsonUsageTests : PassthroughUsageCase
{
    protected override IVendorAdapter Adapter { get; } = new AnthropicVendor();
    protected override string Fixture => "anthropic/message.json";
    protected override string ContentType => "application/json";
    protected override TokenUsage ExpectedUsage => new(25, 12);
    protected override string? ExpectedModel => "claude-sonnet-5-5-20260929";
}

/// <summary>Anthropic Messages, SSE: input from <c>message_start</c>, output from the last <c>message_delta</c>.</summary>
public sealed class AnthropicMessagesStreamUsageTests : PassthroughStreamUsageCase
{
    protected override IVendorAdapter Adapter { get; } = new AnthropicVendor();
    protected override string Fixture => "anthropic/message-stream.sse";
    protected override string ContentType => "text/event-stream; charset=utf-8";
    protected override TokenUsage ExpectedUsage => new(25, 12);
    protected override string? ExpectedModel => "claude-sonnet-5-5-20260929";
}

/// <summary>Cohere v2 chat, JSON: the billed units of <c>usage</c> (the answer names no model).</summary>
public sealed class CohereChatJsonUsageTests : PassthroughUsageCase
{
    protected override IVendorAdapter Adapter { get; } = new CohereVendor();
    protected override string Fixture => "cohere/chat.json";
    protected override string ContentType => "application/json";
    protected override TokenUsage ExpectedUsage => new(12, 9);
    protected override string? ExpectedModel => null;
}

/// <summary>Cohere v2 chat, SSE: the billed units of <c>message-end</c>.</summary>
public sealed class CohereChatStreamUsageTests : PassthroughStreamUsageCase
{
    protected override IVendorAdapter Adapter { get; } = new CohereVendor();
    protected override string Fixture => "cohere/chat-stream.sse";
    protected override string ContentType => "text/event-stream";
    protected override TokenUsage ExpectedUsage => new(12, 9);
    protected override string? ExpectedModel => null;
}
