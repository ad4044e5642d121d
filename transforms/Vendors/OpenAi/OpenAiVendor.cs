namespace Gateway.Transforms.Vendors.OpenAi;

/// <summary>OpenAI's API: <c>Authorization: Bearer</c>.</summary>
public sealed class OpenAiVendor : BearerTokenVendor
{
    public const string VendorName = "openai";

    public override string Name => VendorName;
}
