using Gateway.Auth;
using Gateway.Limiting;
using Gateway.Transforms.Contracts;

namespace Gateway.Hosting;

/// <summary>
/// The gateway's state of one call, set once as the request's <see cref="CallState"/> when its caller is known: the
/// caller's client and the admission decided for the call, beside the library's record and vendor attempt. A
/// passthrough call asked Kestrel for a feature ~70 times and set 9 before; each step now reads what the steps before
/// it left here.
/// </summary>
internal sealed class GatewayCall(GatewayClient client) : CallState
{
    /// <summary>The authenticated caller.</summary>
    public GatewayClient Client { get; } = client;

    /// <summary>What the limiter decided for the call, once it has.</summary>
    public AdmissionFeature? Admission { get; set; }
}

internal static class GatewayCallExtensions
{
    /// <summary>The call's state with its caller, or null before the caller is known (or when it never was).</summary>
    public static GatewayCall? GetGatewayCall(this HttpContext context) => context.Features.Get<CallState>() as GatewayCall;
}
