namespace Gateway.Transforms.Contracts;

/// <summary>
/// When a stopping gateway stops waiting for calls in flight: the host cancels <see cref="Deadline"/> when its drain time
/// is over, and a normalized stream still open then ends with a <c>gateway_stopping</c> error event rather than being cut.
/// </summary>
public interface IGatewayDrain
{
    CancellationToken Deadline { get; }
}

/// <summary>For a host that does not drain (tests, other hosts): never.</summary>
public sealed class NoGatewayDrain : IGatewayDrain
{
    public CancellationToken Deadline => CancellationToken.None;
}
