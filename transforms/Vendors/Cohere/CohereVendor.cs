namespace Gateway.Transforms.Vendors.Cohere;

/// <summary>Cohere's API: <c>Authorization: Bearer</c>.</summary>
public sealed class CohereVendor : BearerTokenVendor
{
    public const string VendorName = "cohere";

    public override string Name => VendorName;
}
