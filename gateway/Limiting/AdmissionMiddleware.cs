using System.Globalization;
using System.Text;
using Gateway.Auth;
using Gateway.Errors;
using Gateway.Hosting;
using Gateway.Transforms;
using Gateway.Transforms.Passthrough;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Tasks;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Limiting;

/// <summary>
/// Admission for passthrough and normalized routes alike: reserves a request and its estimated tokens (input + max
/// output) and cost in every scope of the client, or answers 429 with Retry-After and the RateLimit headers; when the
/// response has ended (streams, disconnects and errors included) it settles the reservation to the vendor's usage.
/// </summary>
internal sealed class AdmissionMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, RateLimiter limiter, ProblemWriter problems)
{
    private const int CharsPerToken = 4;

    public async Task InvokeAsync(HttpContext context)
    {
        var client = context.Features.Get<ICallerFeature>()?.Client;
        if (client is null || client.Unlimited)
        {
            await next(context);
            return;
        }

        var current = settings.Current;
        var call = context.Features.Get<TaskCall>();
        var binding = call is null ? context.Features.Get<PassthroughCall>()?.Provider : null;
        var user = call?.User ?? HeaderValue(context.Request.Headers[current.RateLimiting.UserHeader]);
        var estimate = call is not null
            ? new TokenUsage(call.VendorBody.Length / CharsPerToken, call.MaxTokens)
            : new TokenUsage(
                (int)Math.Min((context.Request.ContentLength ?? 0) / CharsPerToken, int.MaxValue),
                // A request without a body (models list, file download) asks for no generation.
                context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true
                    ? current.RateLimiting.PassthroughOutputReservation : 0);
        var price = call?.Price ?? current.HighestPrice;

        var scopes = new List<LimitScope>(3);
        if (client.RateLimit is { } clientPolicy)
        {
            scopes.Add(new LimitScope("client", clientPolicy));
        }

        if (client.ModelRateLimit is { } modelPolicy && (call?.Model ?? binding?.Name) is { } model)
        {
            scopes.Add(new LimitScope("model:" + model, modelPolicy));
        }

        if (client.UserRateLimit is { } userPolicy && user is not null)
        {
            scopes.Add(new LimitScope("user:" + user, userPolicy));
        }

        var session = HeaderValue(context.Request.Headers[current.RateLimiting.SessionHeader]);
        var budgets = new List<BudgetScope>(3);
        if (client.DailyBudgetMicros is { } clientCap)
        {
            budgets.Add(new BudgetScope(BudgetScope.ClientKey, clientCap));
        }

        if (client.UserDailyBudgetMicros is { } userCap && user is not null)
        {
            budgets.Add(new BudgetScope(BudgetScope.ClientKey + ":user:" + user, userCap));
        }

        if (client.SessionDailyBudgetMicros is { } sessionCap && session is not null)
        {
            budgets.Add(new BudgetScope(BudgetScope.ClientKey + ":session:" + session, sessionCap));
        }

        var request = new AdmissionRequest(client.Id, scopes, estimate.TotalTokens, Micros(price.Cost(estimate)), budgets);
        var decision = await limiter.AcquireAsync(request, context.RequestAborted);
        if (decision.Lease is not { } lease)
        {
            await RefuseAsync(context, client, request, decision);
            return;
        }

        WriteQuotaHeaders(context.Response.Headers, decision.Quotas);
        try
        {
            await next(context);
        }
        finally
        {
            // Passthrough usage is read by the tap GenAiTelemetryMiddleware puts on the response.
            var tap = context.Features.Get<UsageTapFeature>()?.Tap;
            tap?.Complete();
            var (tokens, cost) = Actual(context, call, tap, request, current);
            await limiter.SettleAsync(lease, tokens, cost);
        }
    }

    /// <summary>
    /// What to settle to: the vendor's reported usage (so far, for a stream cut short); nothing when the vendor was never
    /// reached or refused, or answered a whole body that meters nothing; the reservation itself when the vendor answered
    /// but its usage is unknown (a stream without usage events).
    /// </summary>
    private static (long Tokens, long CostMicros) Actual(HttpContext context, TaskCall? call, UsageTapStream? tap, AdmissionRequest request, GatewaySettings current)
    {
        var usage = call?.Usage ?? tap?.Usage;
        if (usage is { } known)
        {
            var price = call?.Price ?? current.PriceOf(tap?.Model);
            return (known.TotalTokens, Micros(price.Cost(known)));
        }

        var failed = tap is { NothingMetered: true }
            || context.Features.Get<IForwarderErrorFeature>() is not null
            || context.Features.Get<IGatewayErrorFeature>() is not null
            || context.Response.StatusCode >= StatusCodes.Status400BadRequest;
        return failed ? (0, 0) : (request.Tokens, request.CostMicros);
    }

    private Task RefuseAsync(HttpContext context, GatewayClient client, AdmissionRequest request, LimitDecision decision)
    {
        var headers = context.Response.Headers;
        if (decision.RetryAfter != TimeSpan.MaxValue)
        {
            headers.RetryAfter = Seconds(decision.RetryAfter).ToString(CultureInfo.InvariantCulture);
        }

        var scope = decision.Scope;
        if (scope is not null && decision.Reason is LimitReason.Requests or LimitReason.Tokens)
        {
            var item = Item(scope, decision.Reason == LimitReason.Requests ? "requests" : "tokens");
            var (quota, window) = (decision.Reason == LimitReason.Requests ? scope.Policy.Requests : scope.Policy.Tokens, Seconds(scope.Policy.Window));
            headers["RateLimit-Policy"] = $"\"{item}\";q={quota};w={window}";
            headers["RateLimit"] = $"\"{item}\";r=0;t={Seconds(decision.RetryAfter == TimeSpan.MaxValue ? scope.Policy.Window : decision.RetryAfter)}";
        }

        var subject = scope is null ? "" : scope.Key == "client" ? "" : $" for {scope.Key.Replace(':', ' ')}";
        var error = decision.Reason switch
        {
            LimitReason.Budget => new GatewayError(ErrorCodes.BudgetExhausted,
                $"{BudgetSubject(client, decision.Budget!)} has spent its daily budget of {decision.Budget!.CapMicros / 1_000_000m} USD; it renews at 00:00 UTC."),
            LimitReason.Unavailable => new GatewayError(ErrorCodes.RateLimiterUnavailable,
                $"The shared rate limiter is unavailable and policy '{scope!.Policy.Name}' fails closed; retry shortly."),
            LimitReason.Tokens when decision.RetryAfter == TimeSpan.MaxValue => new GatewayError(ErrorCodes.RateLimited,
                $"The request reserves {request.Tokens} tokens, more than policy '{scope!.Policy.Name}' allows in a window ({scope.Policy.Tokens}); lower max_tokens or the input."),
            LimitReason.Tokens => new GatewayError(ErrorCodes.RateLimited,
                $"Client '{client.Id}' reached policy '{scope!.Policy.Name}'{subject}: {scope.Policy.Tokens} tokens per {scope.Policy.Window}; retry in {Seconds(decision.RetryAfter)} s."),
            _ => new GatewayError(ErrorCodes.RateLimited,
                $"Client '{client.Id}' reached policy '{scope!.Policy.Name}'{subject}: {scope.Policy.Requests} requests per {scope.Policy.Window}; retry in {Seconds(decision.RetryAfter)} s."),
        };
        return problems.WriteAsync(context, error);
    }

    // "Client 'team-a'", "End user 'u-17' of client 'team-a'", "Session 's-9' of client 'team-a'".
    private static string BudgetSubject(GatewayClient client, BudgetScope budget)
    {
        var parts = budget.Key.Split(':', 3);
        return parts.Length < 3 ? $"Client '{client.Id}'"
            : parts[1] == "user" ? $"End user '{parts[2]}' of client '{client.Id}'"
            : $"Session '{parts[2]}' of client '{client.Id}'";
    }

    // IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): one item per limit of every scope, with what is left.
    private static void WriteQuotaHeaders(IHeaderDictionary headers, IReadOnlyList<ScopeQuota> quotas)
    {
        if (quotas.Count == 0)
        {
            return;
        }

        var policy = new StringBuilder();
        var remaining = new StringBuilder();
        foreach (var quota in quotas)
        {
            var window = Seconds(quota.Scope.Policy.Window);
            var reset = Seconds(quota.Reset);
            if (quota.Scope.Policy.Requests is { } requests)
            {
                Append(policy, remaining, Item(quota.Scope, "requests"), requests, window, quota.RequestsLeft ?? 0, reset);
            }

            if (quota.Scope.Policy.Tokens is { } tokens)
            {
                Append(policy, remaining, Item(quota.Scope, "tokens"), tokens, window, quota.TokensLeft ?? 0, reset);
            }
        }

        headers["RateLimit-Policy"] = policy.ToString();
        headers["RateLimit"] = remaining.ToString();
    }

    private static void Append(StringBuilder policy, StringBuilder remaining, string item, long quota, long window, long left, long reset)
    {
        if (policy.Length > 0)
        {
            policy.Append(", ");
            remaining.Append(", ");
        }

        policy.Append('"').Append(item).Append("\";q=").Append(quota).Append(";w=").Append(window);
        remaining.Append('"').Append(item).Append("\";r=").Append(Math.Max(left, 0)).Append(";t=").Append(reset);
    }

    private static string Item(LimitScope scope, string kind)
        => scope.Key == "client" ? kind : scope.Key.StartsWith("model:", StringComparison.Ordinal) ? "model-" + kind : "user-" + kind;

    private static long Seconds(TimeSpan span) => (long)Math.Ceiling(Math.Max(span.TotalSeconds, 0));

    private static long Micros(decimal usd) => (long)Math.Ceiling(usd * 1_000_000m);

    private static string? HeaderValue(Microsoft.Extensions.Primitives.StringValues values)
        => values.Count == 1 && values[0] is { Length: > 0 and <= SchemaLimits.MaxUserLength } value ? value : null;
}
