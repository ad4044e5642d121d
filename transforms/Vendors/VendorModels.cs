using Gateway.Transforms.Schema;

namespace Gateway.Transforms.Vendors;

/// <summary>A normalized call as an adapter sees it: model resolved, system instructions merged, defaults applied.</summary>
/// <param name="ExtraFields">Vendor-specific fields configuration adds for the model (e.g. <c>reasoning_effort</c>), as JSON values.</param>
/// <param name="TopP">Nucleus sampling, when asked for.</param>
/// <param name="Stop">Stop sequences, when asked for.</param>
/// <param name="Seed">Sampling seed, when asked for (only for vendors whose <see cref="ChatFeatures.Seed"/> is true).</param>
/// <param name="JsonSchema">A JSON schema the answer must follow, when asked for.</param>
/// <param name="Tools">Functions the model may call, when given.</param>
/// <param name="ToolChoice">Whether, or which, tool the model must call; null for the vendor's default.</param>
/// <param name="ParallelToolCalls">False for at most one tool call per answer; null for the vendor's default.</param>
public sealed record VendorRequest(
    string Model,
    string? System,
    IReadOnlyList<ChatMessage> Messages,
    int MaxTokens,
    double? Temperature,
    bool Json,
    bool Stream,
    IReadOnlyList<KeyValuePair<string, string>>? ExtraFields = null,
    double? TopP = null,
    IReadOnlyList<string>? Stop = null,
    long? Seed = null,
    JsonSchemaFormat? JsonSchema = null,
    IReadOnlyList<ToolDefinition>? Tools = null,
    ToolChoice? ToolChoice = null,
    bool? ParallelToolCalls = null);

/// <summary>A structured answer asked for: the schema's name, the schema (JSON text), and whether it is to be followed strictly.</summary>
public sealed record JsonSchemaFormat(string Name, string Schema, bool Strict);

/// <summary>An embeddings call as an adapter sees it: the model, the texts (in order), and a vector size when asked for.</summary>
public sealed record EmbeddingsRequest(string Model, IReadOnlyList<string> Inputs, int? Dimensions);

/// <summary>A vendor's embeddings answer: one vector per input, in the inputs' order, and the input tokens it counted.</summary>
public sealed record EmbeddingsResponse(string? Model, IReadOnlyList<float[]> Vectors, TokenUsage? Usage);

/// <summary>What a vendor's chat API can take beyond messages, so a request asking for more is refused by name, not dropped.</summary>
/// <param name="Seed">A sampling seed.</param>
/// <param name="JsonMode">A JSON-object answer mode.</param>
/// <param name="MaxStop">How many stop sequences it takes.</param>
/// <param name="JsonSchema">An answer constrained by a JSON schema.</param>
/// <param name="NamedToolChoice">A tool choice naming the one function to call.</param>
/// <param name="SerialToolCalls">At most one tool call per answer (<c>parallel_tool_calls: false</c>).</param>
/// <param name="StrictPerTool">Strict schemas chosen tool by tool (else for all tools or none).</param>
/// <param name="ImageDetail">An image's resolution chosen (<c>detail</c>: low, high).</param>
public sealed record ChatFeatures(bool Seed, bool JsonMode, int MaxStop, bool JsonSchema = false,
    bool NamedToolChoice = true, bool SerialToolCalls = true, bool StrictPerTool = true, bool ImageDetail = true);

/// <summary>A vendor's non-streamed answer in internal terms.</summary>
/// <param name="Id">The vendor's response id.</param>
/// <param name="Model">The model that answered, when the vendor says.</param>
/// <param name="Text">The output text (empty when the model gave none).</param>
/// <param name="FinishReason">One of <see cref="FinishReasons"/>.</param>
/// <param name="Usage">Token usage, when the vendor reports it.</param>
/// <param name="Refusal">The model's refusal message, when it refused.</param>
/// <param name="ToolCalls">The tool calls the model made, in order, when it made any.</param>
public sealed record VendorResponse(string? Id, string? Model, string Text, string FinishReason, TokenUsage? Usage, string? Refusal = null,
    IReadOnlyList<ToolCall>? ToolCalls = null);

/// <summary>What one vendor SSE event carries. Fields are null when the event says nothing of them.</summary>
public readonly record struct StreamUpdate(
    string? Delta = null,
    int? InputTokens = null,
    int? OutputTokens = null,
    string? FinishReason = null,
    string? Model = null,
    string? Id = null,
    bool Completed = false,
    string? Error = null,
    string? Refusal = null,
    IReadOnlyList<ToolCallDelta>? ToolCalls = null)
{
    public static readonly StreamUpdate Nothing = default;

    /// <summary>The usage, response model and finish of an update, nothing else (see <see cref="IVendorStreamReader.ReadUsage"/>).</summary>
    public static StreamUpdate UsageOf(in StreamUpdate update)
        => new(InputTokens: update.InputTokens, OutputTokens: update.OutputTokens, FinishReason: update.FinishReason, Model: update.Model);
}

/// <summary>
/// A piece of a streamed tool call, as OpenAI's chunks carry it: the call's index among the answer's tool calls; its id
/// and function name on the first piece; a piece of its arguments' JSON text on any.
/// </summary>
public sealed record ToolCallDelta(int Index, string? Id, string? Name, string? Arguments);
