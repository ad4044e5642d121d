using Gateway.Transforms.Contracts;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Vendors;

namespace Gateway.Transforms.Tasks;

/// <summary>
/// One normalized call, planned by <see cref="TaskPlanner"/> once the body is validated and the model resolved, and set
/// on the request's features; the task transforms read it, and fill in the outcome (usage, finish reason) for
/// settlement and telemetry.
/// </summary>
public sealed class TaskCall
{
    public required TaskKind Task { get; init; }

    /// <summary>The validated internal request the call was planned from.</summary>
    public required TaskRequest Request { get; init; }

    /// <summary>Where the call goes.</summary>
    public required TaskTarget Target { get; init; }

    /// <summary>The prompt settings it was planned with.</summary>
    public required TaskPrompts Prompts { get; init; }

    /// <summary>The provider serving the call (a key of <c>Gateway:Providers</c>).</summary>
    public string Provider => Target.Provider.Name;

    public IVendorAdapter Vendor => Target.Provider.Vendor;

    /// <summary>The vendor endpoint the call goes to: its embeddings endpoint for embeddings, else its chat endpoint.</summary>
    public string VendorPath => Task == TaskKind.Embeddings ? Vendor.EmbeddingsPath ?? Vendor.ChatPath : Vendor.ChatPath;

    /// <summary>The vendor model id asked for.</summary>
    public string Model => Target.ModelId;

    /// <summary>One of <see cref="OutputFormats"/>.</summary>
    public required string Format { get; init; }

    public bool Stream => Record.Stream;

    /// <summary>The output-token limit sent to the vendor.</summary>
    public required int MaxTokens { get; init; }

    /// <summary>The end user named by the request's <c>user</c> field.</summary>
    public string? User => Record.User;

    /// <summary>The vendor request body.</summary>
    public required byte[] VendorBody { get; init; }

    /// <summary>The model's price, when the price table has it.</summary>
    public ModelPrice? Price => Record.Price;

    /// <summary>The call as limiting and telemetry see it; the task transforms fill its outcome.</summary>
    public required CallRecord Record { get; init; }

    /// <summary>What came of the call (usage, answering model, finish reason).</summary>
    public CallOutcome Outcome => Record.Outcome;

    /// <summary>What the vendor's answer says, for settlement and telemetry: its usage, why it stopped, the model that answered.</summary>
    public void Settle(TokenUsage? usage, string finishReason, string? responseModel)
    {
        Outcome.Usage = usage;
        Outcome.FinishReason = finishReason;
        Outcome.ResponseModel = responseModel ?? Model;
    }

    /// <summary>The same request planned for another target (another provider or model), with a record of its own.</summary>
    public TaskCall RetargetTo(TaskTarget target) => TaskPlanner.Plan(Task, Request, target, Prompts);
}

/// <summary>How a route's metadata marks it as a normalized task route.</summary>
public static class TaskRoutes
{
    /// <summary>Route metadata key; its value is <c>generate</c> or <c>summarize</c>.</summary>
    public const string MetadataKey = "Task";

    public static bool TryGetTask(IReadOnlyDictionary<string, string>? metadata, out TaskKind task)
    {
        task = default;
        return metadata is not null && metadata.TryGetValue(MetadataKey, out var value)
            && Enum.TryParse(value, ignoreCase: true, out task) && Enum.IsDefined(task);
    }
}
