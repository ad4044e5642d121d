using Gateway.Transforms.Schema;
using Gateway.Transforms.Vendors;

namespace Gateway.Transforms.Tasks;

/// <summary>
/// One normalized call, set on the request's features once the body is validated and the model resolved; the task
/// transforms read it, and fill in the outcome (usage, finish reason) for settlement and telemetry.
/// </summary>
public sealed class TaskCall
{
    public required TaskKind Task { get; init; }

    /// <summary>The provider serving the call (a key of <c>Gateway:Providers</c>).</summary>
    public required string Provider { get; init; }

    public required IVendorAdapter Vendor { get; init; }

    /// <summary>The vendor model id asked for.</summary>
    public required string Model { get; init; }

    /// <summary>One of <see cref="OutputFormats"/>.</summary>
    public required string Format { get; init; }

    public required bool Stream { get; init; }

    /// <summary>The output-token limit sent to the vendor.</summary>
    public required int MaxTokens { get; init; }

    /// <summary>The end user named by the request's <c>user</c> field.</summary>
    public string? User { get; init; }

    /// <summary>The vendor request body.</summary>
    public required byte[] VendorBody { get; init; }

    /// <summary>The model's price, when the price table has it.</summary>
    public ModelPrice? Price => Record.Price;

    /// <summary>The call as limiting and telemetry see it; the task transforms fill its outcome.</summary>
    public required CallRecord Record { get; init; }

    /// <summary>What came of the call (usage, answering model, finish reason).</summary>
    public CallOutcome Outcome => Record.Outcome;
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
