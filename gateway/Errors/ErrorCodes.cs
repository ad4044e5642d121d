using System.Collections.Frozen;

namespace Gateway.Errors;

/// <summary>A stable error code with its HTTP status and title.</summary>
public sealed record ErrorCode(string Code, int Status, string Title)
{
    /// <summary>The problem <c>type</c> URI.</summary>
    public string Type { get; } = "urn:ai-gateway:problem:" + Code;
}

/// <summary>Every error code the gateway answers with, in one place.</summary>
public static class ErrorCodes
{
    public static readonly ErrorCode Unauthenticated = new("unauthenticated", 401, "Missing or unknown client key");
    public static readonly ErrorCode Forbidden = new("forbidden", 403, "Outside the client's scope");
    public static readonly ErrorCode NotFound = new("not_found", 404, "No such route");
    public static readonly ErrorCode PayloadTooLarge = new("payload_too_large", 413, "Request body too large");
    public static readonly ErrorCode BadRequest = new("bad_request", 400, "Malformed request");
    public static readonly ErrorCode VendorKeyMissing = new("vendor_key_missing", 503, "Vendor key not configured");
    public static readonly ErrorCode VendorUnavailable = new("vendor_unavailable", 502, "Vendor unavailable");
    public static readonly ErrorCode VendorTimeout = new("vendor_timeout", 504, "Vendor timed out");
    public static readonly ErrorCode Internal = new("internal_error", 500, "Internal gateway error");

    private static readonly FrozenDictionary<string, ErrorCode> ByCode = new[]
    {
        Unauthenticated, Forbidden, NotFound, PayloadTooLarge, BadRequest, VendorKeyMissing, VendorUnavailable, VendorTimeout, Internal,
    }.ToFrozenDictionary(e => e.Code, StringComparer.Ordinal);

    /// <summary>The code's entry, or a generic one with the given status for codes raised elsewhere.</summary>
    public static ErrorCode Find(string code, int status) => ByCode.TryGetValue(code, out var known) ? known : new ErrorCode(code, status, code);
}
