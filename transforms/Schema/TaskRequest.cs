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
}

/// <summary>One turn of a conversation.</summary>
public sealed record ChatMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content)
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string System = "system";
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

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, AllowDuplicateProperties = false)]
[JsonSerializable(typeof(TaskRequest))]
internal sealed partial class SchemaJsonContext : JsonSerializerContext;
