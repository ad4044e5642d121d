using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Contracts;

/// <summary>
/// What the gateway keeps for one call, in one request feature set once: the call's record and the vendor attempt in
/// progress. Steps read and fill it rather than each asking for and setting a feature of their own: every lookup walks
/// Kestrel's list of features (all of it for one not set), and every feature set makes ASP.NET Core look its own
/// features up again. The host makes one when it knows the caller, and may keep more of its own in a derived type.
/// </summary>
public class CallState
{
    /// <summary>The record of the call being served (a fallback replaces it with the record of its own call).</summary>
    public CallRecord? Record { get; set; }

    /// <summary>The vendor attempt in progress, or the last one made (set by the host around each attempt).</summary>
    public VendorAttemptFeature? Attempt { get; set; }
}

public static class CallStateExtensions
{
    /// <summary>The call's state, or null before the host has made it (a request refused before its caller was known).</summary>
    public static CallState? GetCallState(this HttpContext context) => context.Features.Get<CallState>();

    /// <summary>The call's state, made and set now if the host has not made it yet.</summary>
    public static CallState CallStateOrNew(this HttpContext context)
    {
        if (context.Features.Get<CallState>() is { } state)
        {
            return state;
        }

        state = new CallState();
        context.Features.Set(state);
        return state;
    }
}
