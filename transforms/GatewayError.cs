namespace Gateway.Transforms;

/// <summary>An error the gateway itself answers with; written as problem+json by the host.</summary>
/// <param name="Status">HTTP status code.</param>
/// <param name="Code">Stable machine-readable code, e.g. <c>vendor_key_missing</c>.</param>
/// <param name="Detail">Human-readable detail; never holds a secret.</param>
public sealed record GatewayError(int Status, string Code, string Detail);

/// <summary>Carries a <see cref="GatewayError"/> from a transform or middleware to the problem writer.</summary>
public interface IGatewayErrorFeature
{
    /// <summary>The error to answer with.</summary>
    GatewayError Error { get; }
}

/// <summary>Default <see cref="IGatewayErrorFeature"/>.</summary>
public sealed record GatewayErrorFeature(GatewayError Error) : IGatewayErrorFeature;
