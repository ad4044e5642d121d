using Gateway.Errors;
using Gateway.Hosting;
using Gateway.Transforms.Contracts;
using Microsoft.Net.Http.Headers;

namespace Gateway.Auth;

/// <summary>
/// Runs in the proxy pipeline: 401 for a missing or unknown client key, 401 <c>client_key_expired</c> for a key past its
/// <c>NotAfter</c> (naming the key's label and when it expired), 403 when the route is outside the client's scope (its
/// provider is checked where the call is resolved). The vendor is never called for any of them.
/// </summary>
internal sealed class CallerAuthenticationMiddleware(
    RequestDelegate next, ClientKeyAuthenticator authenticator, ProblemWriter problems)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (Identify(context, authenticator, problems, out var client) is { } refused)
        {
            return refused;
        }

        var proxy = context.GetReverseProxyFeature();
        var routeId = proxy.Route.Config.RouteId;
        if (!client.MayUseRoute(routeId))
        {
            return problems.WriteAsync(context, ErrorCodes.Forbidden, $"Client '{client.Id}' may not use route '{routeId}'.");
        }

        return next(context);
    }

    /// <summary>
    /// The caller's client, set on the request; or, for a missing, unknown or expired key, the 401 being written.
    /// </summary>
    public static Task? Identify(HttpContext context, ClientKeyAuthenticator authenticator, ProblemWriter problems, out GatewayClient client)
    {
        var (found, key, expired) = authenticator.Authenticate(context.Request);
        client = found!;
        if (found is null)
        {
            context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
            return problems.WriteAsync(context, ErrorCodes.Unauthenticated,
                "Present a gateway client key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.");
        }

        // Known from here on, a refusal included: the access log and the metrics name who was refused.
        context.Features.Set<CallState>(new GatewayCall(found));
        if (expired)
        {
            context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer error=\"invalid_token\", error_description=\"The client key has expired\"";
            return problems.WriteAsync(context, ErrorCodes.ClientKeyExpired,
                $"Client '{found.Id}' key '{key!.Label}' expired at {key.NotAfter!.Value.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}; use the client's new key (the platform team issues one with 'keys rotate --client {found.Id}').");
        }

        return null;
    }
}
