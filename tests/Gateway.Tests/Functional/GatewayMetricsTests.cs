using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// The gateway's traffic metrics in a real /metrics scrape, after calls through every route kind — passthrough,
/// normalized, streamed, refused (401, 403), retried, fallen back — with bounded labels and exact values; and every
/// metric the shipped Grafana dashboard and alert rules query is in that scrape. This gateway also has a provider whose
/// key cannot be read and a Redis limiter whose server is down (fail open), so those signals are in the scrape too.
/// </summary>
public sealed partial class GatewayMetricsTests : GatewayFixture
{
    private string _scrape = "";

    protected override void EditOverrides(JsonObject overrides)
    {
        var gateway = overrides["Gateway"]!;
        gateway["Providers"]!["spare"] = JsonNode.Parse("""{"Vendor": "openai", "ApiKey": "env:GATEWAY_TEST_NEVER_SET_KEY"}""");
        // Merged over the shipped models.
        gateway["Models"] = new JsonObject { ["shaky"] = JsonNode.Parse("""{"Provider": "cohere", "Model": "command-r-08-2024", "Fallbacks": ["openai/gpt-6-luna"]}""") };
        gateway["Resilience"] = JsonNode.Parse("""{"Retry": {"BaseDelay": "00:00:00.010", "MaxDelay": "00:00:00.050"}, "Providers": {"cohere": {"Retry": {"MaxRetries": 0}}}}""");
        gateway["RateLimiting"] = JsonNode.Parse("""{"Policies": {"one": {"Requests": 1, "Window": "00:10:00"}}}""");
        gateway["Clients"]!["team-b"]!["RateLimitPolicy"] = "one";
        gateway["Clients"]!["team-b"]!["DailyBudgetUsd"] = 5;
        // A Redis limiter whose server is not there: decisions fall back to this process (the policy fails open).
        overrides["ConnectionStrings"] = new JsonObject { ["Redis"] = "127.0.0.1:1,connectTimeout=200,connectRetry=0" };
    }

    [OneTimeSetUp]
    public async Task SendTrafficAndScrape()
    {
        var json = VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture);
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost().WithBody(b => b != null && b.Contains("\"stream\":true")))
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.StreamFixture)));
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost().WithBody(b => b != null && !b.Contains("\"stream\":true")))
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(json));
        // Anthropic fails once, then answers: one retry.
        Vendors.Anthropic.Given(Request.Create().WithPath(VendorCase.Anthropic.VendorPath).UsingPost()).InScenario("retry").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(500).WithHeader("Content-Type", "application/json").WithBody("""{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"""));
        Vendors.Anthropic.Given(Request.Create().WithPath(VendorCase.Anthropic.VendorPath).UsingPost()).InScenario("retry").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.Anthropic.ReadFixture(VendorCase.Anthropic.ResponseFixture)));
        // Cohere is down: its breaker opens after 5 failed calls, and the next "shaky" call falls back to OpenAI.
        Vendors.Cohere.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(500).WithHeader("Content-Type", "application/json").WithBody("""{"message":"internal server error"}"""));

        await SendAsync(VendorCase.OpenAi.GatewayPath, "team-a", VendorCase.OpenAi.RequestBody, HttpStatusCode.OK);
        await SendAsync(VendorCase.OpenAi.GatewayPath, "team-a", VendorCase.OpenAi.RequestBody, HttpStatusCode.OK);
        await SendAsync(VendorCase.OpenAi.GatewayPath, "team-b", VendorCase.OpenAi.RequestBody, HttpStatusCode.OK);
        await SendAsync(VendorCase.OpenAi.GatewayPath, "team-b", VendorCase.OpenAi.RequestBody, HttpStatusCode.TooManyRequests);
        await SendAsync(VendorCase.OpenAi.GatewayPath, "team-a", VendorCase.OpenAi.RequestBody.Replace("{", "{\"stream\":true,", StringComparison.Ordinal), HttpStatusCode.OK);
        await SendAsync("/v1/ai/generate", "team-a", """{"prompt":"Hi","model":"openai/gpt-6-luna"}""", HttpStatusCode.OK);
        await SendAsync(VendorCase.Anthropic.GatewayPath, "team-a", VendorCase.Anthropic.RequestBody, HttpStatusCode.OK);
        await SendAsync(VendorCase.OpenAi.GatewayPath, null, VendorCase.OpenAi.RequestBody, HttpStatusCode.Unauthorized);
        await SendAsync(VendorCase.OpenAi.GatewayPath, "team-c", VendorCase.OpenAi.RequestBody, HttpStatusCode.Forbidden);
        for (var i = 0; i < 5; i++)
        {
            await SendAsync("/v1/ai/generate", "team-a", """{"prompt":"Hi","model":"cohere/command-r-08-2024"}""", HttpStatusCode.BadGateway);
        }

        await SendAsync("/v1/ai/generate", "team-a", """{"prompt":"Hi","model":"shaky"}""", HttpStatusCode.OK);

        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var scrape = await Gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("text/plain") } } });
            _scrape = await scrape.Content.ReadAsStringAsync();
            return Value("gateway_requests_total", "route=\"generate-v1\"", "status_class=\"2xx\"") == 2
                && Value("gateway_requests_total", "error_code=\"unauthenticated\"") == 1;
        }, "the scrape holds the traffic sent");
    }

    private async Task SendAsync(string path, string? client, string body, HttpStatusCode expected)
    {
        var key = client is null ? "gwk_unknown_key_0000000000000000000000000000" : Gateway.ClientKeys[client];
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, path, key, body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(expected), $"{path} as {client}: {text}");
    }

    // The sum of the samples of a metric whose labels include all of the given ones.
    private double Value(string metric, params string[] labels)
    {
        var total = 0.0;
        foreach (Match sample in Sample().Matches(_scrape))
        {
            if (sample.Groups["name"].Value == metric && labels.All(l => sample.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            {
                total += double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    [Test]
    public void Requests_AreCountedByRouteProviderClientStatusClassAndErrorCode()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Value("gateway_requests_total", "route=\"openai\"", "provider=\"openai\"", "client=\"team-a\"", "status_class=\"2xx\"", "error_code=\"none\""), Is.EqualTo(3));
            Assert.That(Value("gateway_requests_total", "route=\"openai\"", "client=\"team-b\"", "status_class=\"2xx\""), Is.EqualTo(1));
            Assert.That(Value("gateway_requests_total", "route=\"openai\"", "client=\"team-b\"", "status_class=\"4xx\"", "error_code=\"rate_limited\""), Is.EqualTo(1));
            Assert.That(Value("gateway_requests_total", "route=\"generate-v1\"", "provider=\"openai\"", "status_class=\"2xx\""), Is.EqualTo(2), "one direct, one fallen back");
            Assert.That(Value("gateway_requests_total", "route=\"generate-v1\"", "provider=\"cohere\"", "status_class=\"5xx\"", "error_code=\"vendor_unavailable\""), Is.EqualTo(5));
            Assert.That(Value("gateway_requests_total", "route=\"anthropic\"", "provider=\"anthropic\"", "status_class=\"2xx\""), Is.EqualTo(1), "retried, answered once");
            Assert.That(Value("gateway_requests_total", "client=\"none\"", "status_class=\"4xx\"", "error_code=\"unauthenticated\""), Is.EqualTo(1));
            Assert.That(Value("gateway_requests_total", "route=\"/metrics\""), Is.Zero, "scrapes and probes are not traffic");
            Assert.That(Value("gateway_requests_total", "client=\"team-c\"", "status_class=\"4xx\"", "error_code=\"forbidden\""), Is.EqualTo(1));
            Assert.That(_scrape, Does.Not.Contain("gwk_unknown_key"), "no key is a label");
        });
    }

    [Test]
    public void TokensAndCost_AreTheVendorsUsage_ByClientAndProvider()
    {
        // OpenAI calls of team-a: two plain and one streamed passthrough (28/11 each) and one normalized (28/11).
        Assert.Multiple(() =>
        {
            Assert.That(Value("gateway_tokens_total", "provider=\"openai\"", "client=\"team-a\"", "token_type=\"input\""), Is.EqualTo(4 * 28 + 28), "plus the fallen-back call");
            Assert.That(Value("gateway_tokens_total", "provider=\"openai\"", "client=\"team-a\"", "token_type=\"output\""), Is.EqualTo(5 * 11));
            Assert.That(Value("gateway_tokens_total", "provider=\"anthropic\"", "client=\"team-a\"", "token_type=\"input\""), Is.EqualTo(25));
            Assert.That(Value("gateway_cost_usd_total", "provider=\"openai\"", "client=\"team-b\""), Is.EqualTo((28 * 0.1 + 11 * 0.5) / 1e6).Within(1e-12));
            Assert.That(Value("gateway_cost_usd_total", "provider=\"anthropic\"", "client=\"team-a\""), Is.EqualTo((25 * 2.0 + 12 * 10.0) / 1e6).Within(1e-12));
            Assert.That(Value("gateway_client_daily_budget_usd", "client=\"team-b\""), Is.EqualTo(5));
        });
    }

    [Test]
    public void StreamsRetriesBreakersFallbacksAndTheLimiter_AreMeasured()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Value("gateway_stream_time_to_first_byte_seconds_count", "route=\"openai\"", "provider=\"openai\""), Is.EqualTo(1));
            Assert.That(Value("gateway_vendor_retries_total", "gen_ai_provider_name=\"anthropic\""), Is.EqualTo(1));
            Assert.That(Value("gateway_vendor_fallbacks_total"), Is.EqualTo(1));
            Assert.That(Value("gateway_vendor_breaker_state", "gen_ai_provider_name=\"cohere\""), Is.EqualTo(1), "open");
            Assert.That(Value("gateway_limiter_fallbacks_total"), Is.GreaterThanOrEqualTo(1), "team-b's decisions made without Redis");
            Assert.That(Value("gateway_limiter_refusals_total", "reason=\"requests\""), Is.EqualTo(1));
            Assert.That(Value("gateway_secret_read_failures_total", "secret_reference=\"env:GATEWAY_TEST_NEVER_SET_KEY\""), Is.GreaterThanOrEqualTo(1));
            Assert.That(Value("gateway_config_reloads_total", "part=\"ReverseProxy\"", "outcome=\"applied\""), Is.GreaterThanOrEqualTo(1), "the routes as loaded at start");
        });
    }

    [Test]
    public async Task EveryMetricTheDashboardAndTheAlertRulesQuery_IsInTheScrape()
    {
        var dashboard = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "charts", "ai-gateway", "files", "dashboard.json"));
        var rules = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "charts", "ai-gateway", "templates", "prometheusrule.yaml"));
        // Label names are in selectors, grouping clauses and legends, not metric names: those parts are left out.
        var expressions = NotAMetric().Replace(dashboard + rules, " ");
        var queried = MetricName().Matches(expressions).Select(m => m.Value)
            // kube-state-metrics, not the gateway.
            .Where(n => !n.StartsWith("kube_", StringComparison.Ordinal))
            .Distinct().Order(StringComparer.Ordinal).ToList();
        var scraped = Sample().Matches(_scrape).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);

        Assert.That(queried, Has.Count.GreaterThanOrEqualTo(12), "the names were found: " + string.Join(", ", queried));
        Assert.That(queried.Where(n => !scraped.Contains(n)), Is.Empty, "queried but not exported");
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex(@"\{[^{}]*\}|\b(?:by|without)\s*\([^)]*\)|\$labels\.\w+")]
    private static partial Regex NotAMetric();

    // Metric names in PromQL: the gateway's, the GenAI conventions' and ASP.NET Core's families.
    [GeneratedRegex(@"\b(?:gateway|gen_ai|http_server|http_client|kestrel|kube)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}
