using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Contracts;

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
    public static readonly ErrorCode ClientKeyExpired = new("client_key_expired", 401, "The client key has expired");
    public static readonly ErrorCode Forbidden = new("forbidden", 403, "Outside the client's scope");
    public static readonly ErrorCode NotFound = new("not_found", 404, "No such route");
    public static readonly ErrorCode MethodNotAllowed = new("method_not_allowed", 405, "Method not allowed");
    public static readonly ErrorCode RequestTimeout = new("request_timeout", 408, "The request body arrived too slowly");
    public static readonly ErrorCode PayloadTooLarge = new("payload_too_large", 413, "Request body too large");
    public static readonly ErrorCode UnsupportedMediaType = new("unsupported_media_type", 415, "Request body must be JSON");
    public static readonly ErrorCode BadRequest = new("bad_request", 400, "Malformed request");
    public static readonly ErrorCode ValidationFailed = new("validation_failed", 400, "The request is not valid");
    public static readonly ErrorCode RateLimited = new("rate_limited", 429, "Rate limit reached");
    public static readonly ErrorCode BudgetExhausted = new("budget_exhausted", 429, "Daily budget exhausted");
    public static readonly ErrorCode RateLimiterUnavailable = new("rate_limiter_unavailable", 503, "Rate limiter unavailable");
    public static readonly ErrorCode VendorRejected = new("vendor_rejected_request", 400, "The vendor rejected the request");
    public static readonly ErrorCode VendorAuthFailed = new("vendor_auth_failed", 502, "The vendor refused the gateway's credentials");
    public static readonly ErrorCode VendorUnavailable = new("vendor_unavailable", 502, "Vendor unavailable");

    /// <summary>The same code, answered by the gateway without calling the vendor: its circuit breaker is open (Retry-After: the break left).</summary>
    public static readonly ErrorCode VendorCircuitOpen = new("vendor_unavailable", 503, "Vendor unavailable");
    public static readonly ErrorCode VendorBadResponse = new("vendor_bad_response", 502, "The vendor's response could not be understood");
    public static readonly ErrorCode EmptyCompletion = new("empty_completion", 502, "The model returned no output");
    public static readonly ErrorCode InvalidModelOutput = new("invalid_model_output", 502, "The model's output does not match the requested format");
    public static readonly ErrorCode ContentFiltered = new("content_filtered", 422, "The model refused or its output was filtered");
    public static readonly ErrorCode VendorKeyMissing = new("vendor_key_missing", 503, "Vendor key not configured");
    public static readonly ErrorCode VendorTimeout = new("vendor_timeout", 504, "Vendor timed out");
    public static readonly ErrorCode Internal = new("internal_error", 500, "Internal gateway error");

    /// <summary>The gateway is stopping and a stream outlived its drain time: send the call again (another replica takes it).</summary>
    public static readonly ErrorCode GatewayStopping = new("gateway_stopping", 503, "The gateway is stopping");

    /// <summary>The code for a vendor's non-2xx status: what a normalized route answers with, the error type in metrics.</summary>
    public static ErrorCode ForVendorStatus(int status) => status switch
    {
        StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden => VendorAuthFailed,
        StatusCodes.Status429TooManyRequests => RateLimited,
        StatusCodes.Status400BadRequest or StatusCodes.Status404NotFound or StatusCodes.Status413PayloadTooLarge
            or StatusCodes.Status422UnprocessableEntity => VendorRejected,
        StatusCodes.Status408RequestTimeout or StatusCodes.Status504GatewayTimeout => VendorTimeout,
        _ => VendorUnavailable,
    };
}
