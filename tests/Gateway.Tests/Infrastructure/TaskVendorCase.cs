namespace Gateway.Tests.Infrastructure;

/// <summary>A vendor as the normalized endpoints use it: the explicit provider/model to ask for, and its fixtures.</summary>
public sealed record TaskVendorCase(VendorCase Vendor, string Model, string ExpectedModel, int InputTokens, int OutputTokens)
{
    public static readonly TaskVendorCase OpenAi = new(VendorCase.OpenAi, "openai/gpt-6-luna", "gpt-6-luna-2026-09-22", 28, 11);
    public static readonly TaskVendorCase Anthropic = new(VendorCase.Anthropic, "anthropic/claude-sonnet-5-5", "claude-sonnet-5-5-20260929", 25, 12);
    public static readonly TaskVendorCase Cohere = new(VendorCase.Cohere, "cohere/command-r-08-2024", "command-r-08-2024", 12, 9);

    public static IEnumerable<TaskVendorCase> All => [OpenAi, Anthropic, Cohere];

    public string Name => Vendor.Vendor;

    public override string ToString() => Name;
}
