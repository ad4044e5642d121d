using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Gateway.Auth;
using Gateway.Errors;
using Gateway.Hosting;
using Gateway.Transforms.Contracts;

namespace Gateway.Limiting;

/// <summary>
/// Admission for passthrough and normalized routes alike: reserves a request and its estimated tokens (input + max
/// output) and cost in every scope of the client, or answers 429 with Retry-After and the RateLimit headers; when the
/// response has ended (streams, disconnects and errors included) the reservation is settled to the vendor's usage.
/// Not a middleware of its own: the vendor call's frame (<see cref="Gateway.Hosting.VendorCallMiddleware"/>) admits,
/// forwards and settles, so a call has one async frame for admission, its metrics and its forwarding problems.
/// </summary>
internal sealed class Admission(GatewaySettingsMonitor settings, RateLimiter limiter, ProblemWriter problems)
{
    /// <summary>
    /// What a call goes on with: a reservation to settle (<see cref="Lease"/>), nothing to settle (no client, or an
    /// unlimited one), or a refusal already answered (<see cref="Refused"/>: the call stops there).
    /// </summary>
    internal readonly struct Ticket
    {
        public static readonly Ticket Free = default;
        public static readonly Ticket Refusal = new(refused: true);

        public Ticket(Lease lease, CallRecord? call, GatewaySettings settings) => (Lease, Call, Settings) = (lease, call, settings);

        private Ticket(bool refused) => Refused = refused;

        public Lease? Lease { get; }

        public CallRecord? Call { get; }

        public GatewaySettings? Settings { get; }

        public bool Refused { get; }
    }

    /// <summary>
    /// Reserves what the call may use, or answers the refusal. Completes at once when the decision is made in process
    /// (the usual call allocates no task for it).
    /// </summary>
    public ValueTask<Ticket> AdmitAsync(HttpContext context)
    {
        var state = context.GetGatewayCall();
        if (state is null || state.Client.Unlimited)
        {
            if (state is not null)
            {
                state.Admission = AdmissionFeature.Unlimited;
            }

            return new(Ticket.Free);
        }

        var client = state.Client;

        var current = settings.Current;
        // The call as resolved (null on a route bound to no provider: then estimated like any HTTP request).
        var call = state.Record;
        var user = call?.User ?? HeaderValue(context.Request.Headers[current.RateLimiting.UserHeader]);
        var estimate = new TokenUsage(
            call?.EstimatedInputTokens ?? (int)Math.Min((context.Request.ContentLength ?? 0) / CallRecord.CharsPerToken, int.MaxValue),
            // A call that does not say how much it may generate reserves the default; one without a body (models list,
            // file download) asks for no generation.
            call?.MaxOutputTokens
                ?? (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true
                    ? current.RateLimiting.PassthroughOutputReservation : 0));
        var price = call?.Price ?? current.HighestPrice;

        var prepared = Prepared.For(client);
        var model = client.ModelRateLimit is not null ? call?.LimitModel : null;
        var userScoped = client.UserRateLimit is not null && user is not null;
        var scopes = prepared.ClientScopes;
        if (model is not null)
        {
            scopes = [.. scopes, new LimitScope("model:" + model, client.ModelRateLimit!)];
        }

        if (userScoped)
        {
            scopes = [.. scopes, new LimitScope("user:" + user, client.UserRateLimit!)];
        }

        var session = client.SessionDailyBudgetMicros is not null ? HeaderValue(context.Request.Headers[current.RateLimiting.SessionHeader]) : null;
        var budgets = prepared.ClientBudgets;
        if (client.UserDailyBudgetMicros is { } userCap && user is not null)
        {
            budgets = [.. budgets, new BudgetScope(BudgetScope.ClientKey + ":user:" + user, userCap)];
        }

        if (session is not null)
        {
            budgets = [.. budgets, new BudgetScope(BudgetScope.ClientKey + ":session:" + session, client.SessionDailyBudgetMicros!.Value)];
        }

        var request = new AdmissionRequest(client.Id, scopes, estimate.TotalTokens, Micros(price.Cost(estimate)), budgets);
        var deciding = limiter.AcquireAsync(request, context.RequestAborted);
        if (!deciding.IsCompletedSuccessfully)
        {
            return DecidedAsync(context, state, request, call, current, prepared, deciding);
        }

        var decision = deciding.Result;
        return decision.Lease is null
            ? RefusedAsync(context, state, request, decision)
            : new(Admitted(context, state, call, current, prepared, decision));
    }

    /// <summary>
    /// Settles the reservation to what the call used (nothing to do for a ticket without one). The record of the call
    /// that was served (a fallback re-plans the call under a record of its own): its usage, at its price, settles the
    /// reservation made for the first.
    /// </summary>
    public ValueTask SettleAsync(HttpContext context, in Ticket ticket)
    {
        if (ticket.Lease is not { } lease)
        {
            return ValueTask.CompletedTask;
        }

        var call = context.GetCallState()?.Record ?? ticket.Call;
        var outcome = call?.Outcome ?? new CallOutcome();
        outcome.Complete(context);
        var (tokens, cost) = Actual(call, outcome, lease.Request, ticket.Settings!);
        return limiter.SettleAsync(lease, tokens, cost);
    }

    private async ValueTask<Ticket> DecidedAsync(HttpContext context, GatewayCall state, AdmissionRequest request, CallRecord? call,
        GatewaySettings current, Prepared prepared, ValueTask<LimitDecision> deciding)
    {
        var decision = await deciding;
        return decision.Lease is null
            ? await RefusedAsync(context, state, request, decision)
            : Admitted(context, state, call, current, prepared, decision);
    }

    private static Ticket Admitted(HttpContext context, GatewayCall state, CallRecord? call, GatewaySettings current, Prepared prepared, LimitDecision decision)
    {
        state.Admission = AdmissionFeature.For(decision);
        WriteQuotaHeaders(context.Response.Headers, decision.Quotas, prepared);
        return new Ticket(decision.Lease!, call, current);
    }

    private async ValueTask<Ticket> RefusedAsync(HttpContext context, GatewayCall state, AdmissionRequest request, LimitDecision decision)
    {
        state.Admission = AdmissionFeature.For(decision);
        await RefuseAsync(context, state.Client, request, decision);
        return Ticket.Refusal;
    }

    /// <summary>
    /// What to settle to: the vendor's reported usage (so far, for a stream cut short); nothing when the vendor was never
    /// reached or refused, or answered a whole body that meters nothing; the reservation itself when the vendor answered
    /// but its usage is unknown (a stream without usage events).
    /// </summary>
    private static (long Tokens, long CostMicros) Actual(CallRecord? call, CallOutcome outcome, AdmissionRequest request, GatewaySettings current)
    {
        if (outcome.Usage is { } known)
        {
            return (known.TotalTokens, Micros(current.CostOf(call, outcome)!.Value));
        }

        var failed = outcome.NothingMetered || outcome.FailureCode is not null;
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
            var item = Item(scope, requests: decision.Reason == LimitReason.Requests);
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
    // RateLimit-Policy depends on the scopes only: made once per client for its own scopes (a decision of the fail-open
    // fallback reports the share of the limits it enforced).
    private static void WriteQuotaHeaders(IHeaderDictionary headers, IReadOnlyList<ScopeQuota> quotas, Prepared prepared)
    {
        if (quotas.Count == 0)
        {
            return;
        }

        headers["RateLimit-Policy"] = prepared.Describes(quotas) ? prepared.PolicyHeader : PolicyHeader(quotas.Select(q => q.Scope));
        Span<char> buffer = stackalloc char[256];
        var written = 0;
        for (var i = 0; i < quotas.Count; i++)
        {
            var quota = quotas[i];
            var reset = Seconds(quota.Reset);
            if (quota.Scope.Policy.Requests is not null
                && !Append(ref buffer, ref written, Item(quota.Scope, requests: true), quota.RequestsLeft ?? 0, reset))
            {
                break;
            }

            if (quota.Scope.Policy.Tokens is not null
                && !Append(ref buffer, ref written, Item(quota.Scope, requests: false), quota.TokensLeft ?? 0, reset))
            {
                break;
            }
        }

        headers["RateLimit"] = new string(buffer[..written]);
    }

    private static bool Append(ref Span<char> buffer, ref int written, string item, long left, long reset)
    {
        while (true)
        {
            var separator = written > 0 ? ", " : "";
            if (buffer[written..].TryWrite(CultureInfo.InvariantCulture, $"{separator}\"{item}\";r={Math.Max(left, 0)};t={reset}", out var length))
            {
                written += length;
                return true;
            }

            if (buffer.Length >= 64 * 1024)
            {
                return false;
            }

            var larger = new char[buffer.Length * 2];
            buffer[..written].CopyTo(larger);
            buffer = larger;
        }
    }

    private static string PolicyHeader(IEnumerable<LimitScope> scopes)
    {
        var policy = new StringBuilder();
        foreach (var scope in scopes)
        {
            var window = Seconds(scope.Policy.Window);
            if (scope.Policy.Requests is { } requests)
            {
                policy.Append(policy.Length > 0 ? ", " : "").Append('"').Append(Item(scope, requests: true)).Append("\";q=").Append(requests).Append(";w=").Append(window);
            }

            if (scope.Policy.Tokens is { } tokens)
            {
                policy.Append(policy.Length > 0 ? ", " : "").Append('"').Append(Item(scope, requests: false)).Append("\";q=").Append(tokens).Append(";w=").Append(window);
            }
        }

        return policy.ToString();
    }

    private static string Item(LimitScope scope, bool requests)
        => scope.Key == "client" ? requests ? "requests" : "tokens"
            : scope.Key.StartsWith("model:", StringComparison.Ordinal) ? requests ? "model-requests" : "model-tokens"
            : requests ? "user-requests" : "user-tokens";

    private static long Seconds(TimeSpan span) => (long)Math.Ceiling(Math.Max(span.TotalSeconds, 0));

    private static long Micros(decimal usd) => (long)Math.Ceiling(usd * 1_000_000m);

    private static string? HeaderValue(Microsoft.Extensions.Primitives.StringValues values)
        => values.Count == 1 && values[0] is { Length: > 0 and <= CallRecord.MaxUserLength } value ? value : null;

    /// <summary>What admission needs of a client that does not change between its requests (a reload makes new clients).</summary>
    private sealed class Prepared
    {
        private static readonly ConditionalWeakTable<GatewayClient, Prepared> Cache = [];

        private Prepared(GatewayClient client)
        {
            ClientScopes = client.RateLimit is { } policy ? [new LimitScope("client", policy)] : [];
            ClientBudgets = client.DailyBudgetMicros is { } cap ? [new BudgetScope(BudgetScope.ClientKey, cap)] : [];
            PolicyHeader = Admission.PolicyHeader(ClientScopes);
        }

        public LimitScope[] ClientScopes { get; }

        public BudgetScope[] ClientBudgets { get; }

        /// <summary>RateLimit-Policy for <see cref="ClientScopes"/>.</summary>
        public string PolicyHeader { get; }

        public bool Describes(IReadOnlyList<ScopeQuota> quotas)
            => quotas.Count == ClientScopes.Length && (quotas.Count == 0 || ReferenceEquals(quotas[0].Scope, ClientScopes[0]));

        public static Prepared For(GatewayClient client) => Cache.GetValue(client, static c => new Prepared(c));
    }
}
