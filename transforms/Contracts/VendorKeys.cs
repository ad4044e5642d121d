using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Contracts;

/// <summary>The outcome of looking up a provider's key.</summary>
/// <param name="Value">The key, or null when it could not be resolved.</param>
/// <param name="Problem">Why it could not be resolved (names the setting, never a secret).</param>
/// <param name="Index">Which of the provider's keys it is.</param>
/// <param name="Client">The client whose own key it is, or null for the provider's shared keys.</param>
public readonly record struct VendorKeyLookup(string? Value, string? Problem, int Index = 0, string? Client = null);

/// <summary>Resolves vendor keys from the secret store; implemented by the host, used by the key transform.</summary>
public interface IVendorKeySource
{
    /// <summary>The key to use for the provider's next call on behalf of the request's caller (their own key, if they have one).</summary>
    ValueTask<VendorKeyLookup> GetAsync(HttpContext context, string provider, CancellationToken cancellationToken);

    /// <summary>
    /// The vendor refused <paramref name="used"/> (401): re-reads that key once (concurrent callers share the read) and
    /// answers whether another key is now available to retry with.
    /// </summary>
    Task<bool> RecoverAsync(string provider, VendorKeyLookup used, CancellationToken cancellationToken);
}

/// <summary>
/// Set when the vendor answered 401: its body was held back so the host can re-read the key and retry once, or answer
/// vendor_auth_failed.
/// </summary>
/// <param name="Provider">The provider that refused.</param>
/// <param name="Key">The key the call was sent with.</param>
/// <param name="Message">The vendor's message, sanitized (no secret, no control characters), or empty.</param>
/// <param name="KeyRejected">Whether the vendor said the key itself is invalid (wrong, revoked, expired), not just this call.</param>
public sealed record VendorAuthFailureFeature(string Provider, VendorKeyLookup Key, string Message, bool KeyRejected);
