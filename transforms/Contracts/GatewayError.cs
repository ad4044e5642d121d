using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Contracts;

/// <summary>An error the gateway itself answers with; written as problem+json by the host.</summary>
/// <param name="Code">The stable error code (status and title come with it).</param>
/// <param name="Detail">Human-readable detail; never holds a secret.</param>
/// <param name="Errors">Every field at fault, for validation errors.</param>
public sealed record GatewayError(ErrorCode Code, string Detail, IReadOnlyList<FieldError>? Errors = null);

/// <summary>One field at fault: its JSON name (or <c>$</c> for the whole body) and what is wrong with it.</summary>
public sealed record FieldError(string Field, string Message);

/// <summary>Carries a <see cref="GatewayError"/> from a transform or middleware to the problem writer.</summary>
public interface IGatewayErrorFeature
{
    /// <summary>The error to answer with.</summary>
    GatewayError Error { get; }
}

/// <summary>Default <see cref="IGatewayErrorFeature"/>.</summary>
public sealed record GatewayErrorFeature(GatewayError Error) : IGatewayErrorFeature;

/// <summary>Writes gateway errors as problems; implemented by the host so every problem has the same fields.</summary>
public interface IProblemResponder
{
    /// <summary>Answers the request with the error as application/problem+json (no-op once the response has started).</summary>
    Task WriteAsync(HttpContext context, GatewayError error);

    /// <summary>Writes the problem object itself, e.g. as the data of an SSE <c>error</c> event.</summary>
    void WriteObject(Utf8JsonWriter json, HttpContext context, GatewayError error);
}
