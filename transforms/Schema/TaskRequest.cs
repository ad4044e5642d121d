using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Transforms.Schema;

/// <summary>The two normalized tasks.</summary>
public enum TaskKind
{
    /// <summary><c>POST /v1/ai/generate</c>: answer a prompt or a conversation.</summary>
    Generate,

    /// <summary><c>POST /v1/ai/summarize</c>: summarize <c>context</c>, following an optional instruction.</summary>
    Summarize,

    /// <summary>The OpenAI-compatible chat completions API: any vendor, asked and answered in OpenAI's chat shapes.</summary>
    Chat,

    /// <summary>The OpenAI-compatible embeddings API: vectors for texts from any vendor that offers them.</summary>
    Embeddings,
}

/// <summary>Output shapes a caller can ask for.</summary>
public static class OutputFormats
{
    public const string Text = "text";
    public const string Markdown = "markdown";
    public const string Json = "json";

    public static readonly IReadOnlyList<string> All = [Text, Markdown, Json];

    /// <summary>The model's text as it is: no format instruction, no reshaping (the OpenAI-compatible API).</summary>
    public const string Verbatim = "verbatim";
}

/// <summary>Internal schema v1: the body of <c>/v1/ai/generate</c> and <c>/v1/ai/summarize</c>.</summary>
public sealed record TaskRequest
{
    /// <summary>The instruction or question. Generate: this or <see cref="Messages"/> is required. Summarize: the instruction (default from config).</summary>
    [JsonPropertyName("prompt")]
    public string? Prompt { get; init; }

    /// <summary>Material the prompt is about. Required for summarize.</summary>
    [JsonPropertyName("context")]
    public string? Context { get; init; }

    /// <summary>System instruction.</summary>
    [JsonPropertyName("system")]
    public string? System { get; init; }

    /// <summary>A conversation (generate only).</summary>
    [JsonPropertyName("messages")]
    public IReadOnlyList<ChatMessage>? Messages { get; init; }

    /// <summary>A model alias from config (<c>default</c>, <c>fast</c>, …) or <c>provider/model</c>. Default: <c>default</c>.</summary>
    [JsonPropertyName("model")]
    public string? Model { get; init; }

    /// <summary>Most output tokens. Default from config.</summary>
    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; init; }

    /// <summary>Sampling temperature, 0 to 2 (Anthropic: 0 to 1).</summary>
    [JsonPropertyName("temperature")]
    public double? Temperature { get; init; }

    /// <summary><c>text</c> (default), <c>markdown</c> or <c>json</c>.</summary>
    [JsonPropertyName("format")]
    public string? Format { get; init; }

    /// <summary>Answer as server-sent events.</summary>
    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    /// <summary>End-user id, for per-user limits and logs; not sent to vendors.</summary>
    [JsonPropertyName("user")]
    public string? User { get; init; }

    /// <summary>Free-form string tags, for logs.</summary>
    [JsonPropertyName("metadata")]
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Nucleus sampling (the OpenAI-compatible API only).</summary>
    [JsonIgnore]
    public double? TopP { get; init; }

    /// <summary>Sequences that end the answer (the OpenAI-compatible API only).</summary>
    [JsonIgnore]
    public IReadOnlyList<string>? Stop { get; init; }

    /// <summary>Sampling seed, for vendors that take one (the OpenAI-compatible API only).</summary>
    [JsonIgnore]
    public long? Seed { get; init; }

    /// <summary>A JSON object answer asked for (<c>response_format: json_object</c>) without reshaping the text.</summary>
    [JsonIgnore]
    public bool JsonMode { get; init; }

    /// <summary>A JSON schema the answer must follow (<c>response_format: json_schema</c>).</summary>
    [JsonIgnore]
    public Vendors.JsonSchemaFormat? JsonSchema { get; init; }

    /// <summary>A stream ends with a usage chunk (<c>stream_options.include_usage</c>).</summary>
    [JsonIgnore]
    public bool IncludeUsage { get; init; }

    /// <summary>The texts to embed, in order (embeddings only).</summary>
    [JsonIgnore]
    public IReadOnlyList<string>? Inputs { get; init; }

    /// <summary>The vector size asked for (embeddings only).</summary>
    [JsonIgnore]
    public int? Dimensions { get; init; }

    /// <summary>Vectors answered as base64 of little-endian float32s rather than as arrays of numbers (embeddings only).</summary>
    [JsonIgnore]
    public bool Base64 { get; init; }

    /// <summary>Functions the model may call (the OpenAI-compatible API only).</summary>
    [JsonIgnore]
    public IReadOnlyList<ToolDefinition>? Tools { get; init; }

    /// <summary>Whether, or which, tool the model must call; null leaves it to the vendor's default (auto).</summary>
    [JsonIgnore]
    public ToolChoice? ToolChoice { get; init; }

    /// <summary>False asks for at most one tool call per answer; null leaves it to the vendor.</summary>
    [JsonIgnore]
    public bool? ParallelToolCalls { get; init; }
}

/// <summary>One turn of a conversation.</summary>
public sealed record ChatMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content)
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string System = "system";

    /// <summary>A tool's result, answering one of the previous assistant turn's tool calls (<see cref="ToolCallId"/>).</summary>
    public const string Tool = "tool";

    /// <summary>
    /// The content as text and image parts in order, when it holds an image (the OpenAI-compatible API only);
    /// <see cref="Content"/> is then its text alone.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<ContentPart>? Parts { get; init; }

    /// <summary>The tool calls an assistant turn made.</summary>
    [JsonIgnore]
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }

    /// <summary>The call a tool turn answers.</summary>
    [JsonIgnore]
    public string? ToolCallId { get; init; }
}

/// <summary>A part of a message's content: text, or an image.</summary>
public sealed record ContentPart(string? Text, ImageInput? Image);

/// <summary>
/// An image given by URL: an <c>http(s)</c> address, or a <c>data:</c> URL holding it in base64 (then
/// <see cref="MediaType"/> and <see cref="Base64Data"/> are its parts).
/// </summary>
/// <param name="Detail">The resolution asked for (auto, low, high), when given.</param>
public sealed record ImageInput(string Url, string? Detail)
{
    /// <summary>The image's media type, for a <c>data:</c> URL.</summary>
    public string? MediaType => Url.StartsWith("data:", StringComparison.Ordinal) ? Url[5..Url.IndexOf(';', StringComparison.Ordinal)] : null;

    /// <summary>The image's bytes in base64, for a <c>data:</c> URL.</summary>
    public string? Base64Data => Url.StartsWith("data:", StringComparison.Ordinal) ? Url[(Url.IndexOf(',', StringComparison.Ordinal) + 1)..] : null;
}

/// <summary>A function call the model made: its id, the function's name, and its arguments as JSON text.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments);

/// <summary>A function the model may call: its name, what it does, its parameters' JSON schema (text) and strictness.</summary>
public sealed record ToolDefinition(string Name, string? Description, string? Parameters, bool Strict);

/// <summary>How the model is to use the tools: <see cref="Auto"/>, <see cref="None"/>, <see cref="Required"/>, or the one function named.</summary>
public sealed record ToolChoice(string Mode, string? Function = null)
{
    public const string Auto = "auto";
    public const string None = "none";
    public const string Required = "required";
    public const string Named = "function";
}

/// <summary>Why the model stopped, in one vocabulary whatever the vendor.</summary>
public static class FinishReasons
{
    public const string Stop = "stop";
    public const string Length = "length";
    public const string ContentFilter = "content_filter";
    public const string ToolCalls = "tool_calls";
    public const string Error = "error";
}
