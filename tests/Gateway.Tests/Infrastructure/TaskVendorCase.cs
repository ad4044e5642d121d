namespace Gateway.Tests.Infrastructure;

/// <summary>A vendor as the normalized endpoints use it: the explicit provider/model to ask for, and its fixtures.</summary>
public sealed record TaskVendorCase(VendorCase Vendor, string Model, string ExpectedModel, int InputTokens, int OutputTokens)
{
    public static readonly TaskVendorCase OpenAi = new(VendorCase.OpenAi, "openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18", 28, 11);
    public static readonly TaskVendorCase Anthropic = new(VendorCase.Anthropic, "anthropic/claude-sonnet-4-5", "claude-sonnet-4-5-20250929", 25, 12);
    public static readonly TaskVendorCase Cohere = new(VendorCase.Cohere, "cohere/command-a-03-2025", "command-a-03-2025", 12, 9);

    public static IEnumerable<TaskVendorCase> All => [OpenAi, Anthropic, Cohere];

    public string Name => Vendor.Vendor;

    public override string ToString() => Name;
}
