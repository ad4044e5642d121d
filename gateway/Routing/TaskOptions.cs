namespace Gateway.Routing;

/// <summary>A model alias: which provider serves it and under which vendor model id.</summary>
public sealed record ModelOptions
{
    /// <summary>A key of <c>Gateway:Providers</c>.</summary>
    public string? Provider { get; init; }

    /// <summary>The vendor's model id, e.g. <c>gpt-6-luna</c>.</summary>
    public string? Model { get; init; }

    /// <summary>
    /// Whether the model takes a sampling temperature. Default true; false leaves a request's <c>temperature</c> out
    /// (models that answer 400 to any non-default sampling parameter).
    /// </summary>
    public bool AcceptsTemperature { get; init; } = true;

    /// <summary>
    /// Vendor-specific fields added to every request for the alias, e.g. <c>reasoning_effort: none</c>; a value that
    /// reads as a JSON number, <c>true</c>, <c>false</c> or <c>null</c> is sent as such, anything else as a string.
    /// </summary>
    public Dictionary<string, string> RequestFields { get; init; } = [];

    /// <summary>
    /// Where the alias's calls go, in order, while its provider's circuit breaker is open: other aliases or
    /// <c>provider/model</c> ids, e.g. <c>["anthropic/claude-haiku-5-5", "command"]</c>.
    /// </summary>
    public string[] Fallbacks { get; init; } = [];

    /// <summary>
    /// Provider switches, first enabled wins: while the feature flag (under <c>FeatureManagement</c>) is on for a caller,
    /// the alias's calls go to <c>To</c> (an alias or <c>provider/model</c>) — e.g. 10 % of team-a's traffic to Anthropic.
    /// </summary>
    public ModelSwitchOptions[] Switches { get; init; } = [];
}

/// <summary>One provider switch of a model alias.</summary>
public sealed record ModelSwitchOptions
{
    /// <summary>A feature flag under <c>FeatureManagement</c>, evaluated per caller (client id as group, client + user as user).</summary>
    public string? Flag { get; init; }

    /// <summary>Where the calls go while it is on: an alias or <c>provider/model</c>.</summary>
    public string? To { get; init; }
}

/// <summary>A model's price.</summary>
public sealed record PriceOptions
{
    /// <summary>USD per million input tokens.</summary>
    public decimal InputPerMillionUsd { get; init; }

    /// <summary>USD per million output tokens.</summary>
    public decimal OutputPerMillionUsd { get; init; }
}

/// <summary>Prompt templates.</summary>
public sealed record PromptOptions
{
    public const string DefaultSummarizeInstruction = "Summarize the following text concisely, keeping every request, decision and date it contains.";

    /// <summary>The instruction of a summarize call whose request has no <c>prompt</c>.</summary>
    public string SummarizeInstruction { get; init; } = DefaultSummarizeInstruction;

    /// <summary>System instructions added per output format (<c>text</c>, <c>markdown</c>, <c>json</c>); defaults in <see cref="DefaultFormats"/>.</summary>
    public Dictionary<string, string> Formats { get; init; } = [];

    /// <summary>The instructions used for a format that <see cref="Formats"/> does not set.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultFormats = new Dictionary<string, string>
    {
        ["text"] = "Answer in plain text, without Markdown formatting.",
        ["markdown"] = "Format the answer in Markdown.",
        ["json"] = "Answer with a single valid JSON value and nothing else: no prose, no code fences.",
    };
}

/// <summary>Defaults of the normalized endpoints.</summary>
public sealed record TaskOptions
{
    /// <summary>max_tokens sent to the vendor when the request names none. Default 1024.</summary>
    public int DefaultMaxTokens { get; init; } = 1024;
}
