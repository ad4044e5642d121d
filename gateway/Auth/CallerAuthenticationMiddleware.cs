using Gateway.Errors;
using Gateway.Transforms.Contracts;
using Microsoft.Net.Http.Headers;

namespace Gateway.Auth;

/// <summary>
/// Runs in the proxy pipeline: 401 for a missing or unknown client key, 403 when the route is outside the client's
/// scope (its provider is checked where the call is resolved). The vendor is never called for either.
/// </summary>
internal sealed class CallerAuthenticationMiddleware(
    RequestDelegate next, ClientKeyAuthenticator authenticator, ProblemWriter problems)
{
    public Task InvokeAsync(HttpContext context)
    {
        var client = authenticator.Authenticate(context.Request);
        if (client is null)
        {
            context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
            return problems.WriteAsync(context, ErrorCodes.Unauthenticated,
                "Present a gateway client key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.");
        }

        // Known from here on, a refusal included: the access log and the metrics name who was refused.
        context.Features.Set<ICallerFeature>(new CallerFeature(client));
        var proxy = context.GetReverseProxyFeature();
        var routeId = proxy.Route.Config.RouteId;
        if (!client.MayUseRoute(routeId))
        {
            return problems.WriteAsync(context, ErrorCodes.Forbidden, $"Client '{client.Id}' may not use route '{routeId}'.");
        }

        return next(context);
    }
}
