using System.Net.Http.Headers;

namespace Gateway.Transforms.Vendors;

/// <summary>A vendor that takes its key as <c>Authorization: Bearer</c>.</summary>
public abstract class BearerTokenVendor : IVendorAdapter
{
    private static readonly string[] Headers = ["Authorization"];

    public abstract string Name { get; }

    public IReadOnlyList<string> CredentialHeaders => Headers;

    public void ApplyCredentials(HttpRequestHeaders headers, string apiKey)
        => headers.TryAddWithoutValidation("Authorization", "Bearer " + apiKey);
}
