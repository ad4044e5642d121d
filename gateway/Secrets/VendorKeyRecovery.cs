using Gateway.Errors;
using Gateway.Transforms.Contracts;

namespace Gateway.Secrets;

/// <summary>
/// What the gateway makes of a vendor's 401, which the library holds back before any of it reaches the caller: when the
/// vendor said the key itself is refused, the key is read again once (concurrent 401s share the read) and, if it changed,
/// the call may be sent once more with the new key — the resilience pipeline's first strategy does that; otherwise the
/// caller gets 502 vendor_auth_failed (their own key was fine), with the vendor's sanitized message.
/// </summary>
public sealed partial class VendorKeyRecovery(IVendorKeySource keys, ProblemWriter problems, ILogger<VendorKeyRecovery> logger)
{
    /// <summary>Whether another key is now available to send the refused call with.</summary>
    public async ValueTask<bool> RecoverAsync(VendorAuthFailureFeature refused, CancellationToken cancellationToken)
    {
        // A refused call, not a refused key (a restricted key's missing scope, say): nothing to re-read or switch, and
        // nothing one caller may use to move every caller onto another key.
        if (!refused.KeyRejected || !await keys.RecoverAsync(refused.Provider, refused.Key, cancellationToken))
        {
            return false;
        }

        Log.Retrying(logger, refused.Provider);
        return true;
    }

    /// <summary>The caller's answer to a 401 that stands: 502 vendor_auth_failed.</summary>
    public Task AnswerAsync(HttpContext context, VendorAuthFailureFeature refused)
    {
        if (!refused.KeyRejected)
        {
            Log.CallRefused(logger, refused.Provider);
            return problems.WriteAsync(context, new GatewayError(ErrorCodes.VendorAuthFailed,
                $"{refused.Provider} refused this call with 401{Quoted(refused.Message)}. The gateway's key is valid; the call needs a permission it lacks."));
        }

        Log.Refused(logger, refused.Provider);
        return problems.WriteAsync(context, new GatewayError(ErrorCodes.VendorAuthFailed,
            $"{refused.Provider} refused the gateway's key (401){Quoted(refused.Message)}. The key was read again and no other key is available; check {refused.Provider}'s key in the secret store."));
    }

    // ": <the vendor's message>" (sanitized where it was read) without its final stop, so the sentence that follows
    // does not start after "..".
    private static string Quoted(string vendorMessage)
    {
        var message = vendorMessage.TrimEnd('.', ' ');
        return message.Length > 0 ? ": " + message : "";
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Provider} refused the key (401); it changed in the secret store, retrying once with the new key")]
        public static partial void Retrying(ILogger logger, string provider);

        [LoggerMessage(2, LogLevel.Error, "{Provider} refused the gateway's key (401) and no other key is available: answering vendor_auth_failed")]
        public static partial void Refused(ILogger logger, string provider);

        [LoggerMessage(3, LogLevel.Warning, "{Provider} refused a call with 401 without rejecting the key (a missing permission): answering vendor_auth_failed")]
        public static partial void CallRefused(ILogger logger, string provider);
    }
}
