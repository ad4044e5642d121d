using System.Net.Http.Headers;

namespace Gateway.Transforms.Vendors.Anthropic;

/// <summary>Anthropic's API: <c>x-api-key</c>, and an <c>anthropic-version</c> header that every request must carry.</summary>
public sealed class AnthropicVendor : IVendorAdapter
{
    public const string VendorName = "anthropic";

    /// <summary>The API version sent when the caller names none (the one Anthropic documents for the Messages API).</summary>
    public const string DefaultApiVersion = "2023-06-01";

    private const string VersionHeader = "anthropic-version";
    private static readonly string[] Headers = ["x-api-key"];

    public string Name => VendorName;

    public IReadOnlyList<string> CredentialHeaders => Headers;

    public void ApplyCredentials(HttpRequestHeaders headers, string apiKey)
    {
        headers.TryAddWithoutValidation("x-api-key", apiKey);
        if (!headers.Contains(VersionHeader))
        {
            headers.TryAddWithoutValidation(VersionHeader, DefaultApiVersion);
        }
    }
}
