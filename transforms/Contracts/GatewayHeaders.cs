namespace Gateway.Transforms.Contracts;

/// <summary>Request headers that belong to the gateway itself.</summary>
public static class GatewayHeaders
{
    /// <summary>
    /// Headers meant for the gateway (the end user and session for limits, say) start with this; no passthrough route
    /// forwards them to a vendor, whatever its configuration.
    /// </summary>
    public const string InternalPrefix = "X-Gateway-";
}
