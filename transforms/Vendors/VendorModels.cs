using Gateway.Transforms.Schema;

namespace Gateway.Transforms.Vendors;

/// <summary>A normalized call as an adapter sees it: model resolved, system instructions merged, defaults applied.</summary>
/// <param name="ExtraFields">Vendor-specific fields configuration adds for the model (e.g. <c>reasoning_effort</c>), as JSON values.</param>
public sealed record VendorRequest(
    string Model,
    string? System,
    IReadOnlyList<ChatMessage> Messages,
    int MaxTokens,
    double? Temperature,
    bool Json,
    bool Stream,
    IReadOnlyList<KeyValuePair<string, string>>? ExtraFields = null);

/// <summary>A vendor's non-streamed answer in internal terms.</summary>
/// <param name="Id">The vendor's response id.</param>
/// <param name="Model">The model that answered, when the vendor says.</param>
/// <param name="Text">The output text (empty when the model gave none).</param>
/// <param name="FinishReason">One of <see cref="FinishReasons"/>.</param>
/// <param name="Usage">Token usage, when the vendor reports it.</param>
/// <param name="Refusal">The model's refusal message, when it refused.</param>
public sealed record VendorResponse(string? Id, string? Model, string Text, string FinishReason, TokenUsage? Usage, string? Refusal = null);

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
    string? Refusal = null)
{
    public static readonly StreamUpdate Nothing = default;
}
