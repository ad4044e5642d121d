using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// The access log: one structured line per request under its own category, written when the response has ended, with
/// the trace id the caller got as x-request-id, the route, client, provider and models, status and error code, timings,
/// the vendor's usage and its cost, attempts, fallback and the limiter's decision. Token figures are the fixtures'
/// usage blocks (OpenAI 28/11, Anthropic 25/12, Cohere's billed units 12/9), streamed and not.
/// </summary>
public sealed class AccessLogTests : GatewayFixture
{
    private const string Category = "Gateway.AccessLog";

    // The fixtures' usage blocks, and the configured price of the model that answered (config/gateway.json, per million).
    private static readonly Dictionary<string, (int Input, int Output, decimal InputPrice, decimal OutputPrice)> Usage = new()
    {
        ["openai"] = (28, 11, 0.1m, 0.5m),
        ["anthropic"] = (25, 12, 2.0m, 10.0m),
        ["cohere"] = (12, 9, 0.15m, 0.6m),
    };

    protected override void EditOverrides(JsonObject overrides)
    {
        var gateway = overrides["Gateway"]!;
        // Through the logging providers (not the default straight-to-stdout writer) so the test sees each field as the
        // structured value it is; AccessLogStdoutTests reads the default output's lines.
        gateway["AccessLog"] = new JsonObject { ["Output"] = "logger" };
        gateway["RateLimiting"] = JsonNode.Parse("""{"Policies": {"small": {"Requests": 1000, "Tokens": 1000000, "Window": "00:01:00"}}}""");
        gateway["Clients"]!["team-b"]!["RateLimitPolicy"] = "small";
        gateway["Resilience"] = JsonNode.Parse("""{"Retry": {"BaseDelay": "00:00:00.010", "MaxDelay": "00:00:00.050"}}""");
    }

    [SetUp]
    public void VendorsAnswer()
    {
        Vendors.Reset();
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost().WithBody(b => b != null && b.Contains("\"stream\":true")))
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(vendor.ReadFixture(vendor.StreamFixture)));
            Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost().WithBody(b => b != null && !b.Contains("\"stream\":true")))
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
        }
    }

    private async Task<(HttpResponseMessage Response, LogRecord Line)> CallAsync(string path, string? key, string? body, HttpMethod? method = null)
    {
        var response = await Gateway.Client.SendAsync(Gateway.Request(method ?? HttpMethod.Post, path, key, body));
        await response.Content.ReadAsStringAsync();
        var requestId = response.Headers.GetValues("x-request-id").Single();
        LogRecord? line = null;
        // The line is written once the response has ended, which the client may see a moment before.
        await GatewayHost.WaitUntilAsync(() => Task.FromResult((line = Lines(requestId).SingleOrDefault()) is not null), "the access log line");
        Assert.That(Lines(requestId), Has.Count.EqualTo(1), "one line per request");
        return (response, line!);
    }

    private List<LogRecord> Lines(string requestId)
        => [.. Gateway.Logs.Records.Where(r => r.Category == Category && (string?)r["trace_id"] == requestId)];

    private static string Streamed(VendorCase vendor) => vendor.RequestBody.Replace("{", "{\"stream\":true,", StringComparison.Ordinal);

    [Test]
    public async Task Passthrough_LineHasTheCallTheUsageItsCostAndTheLimiterDecision()
    {
        var (response, line) = await CallAsync(VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-b"], VendorCase.OpenAi.RequestBody);
        using var _ = response;
        var left = response.Headers.GetValues("RateLimit").Single();

        Assert.Multiple(() =>
        {
            Assert.That(line.Level, Is.EqualTo(LogLevel.Information));
            Assert.That(line["span_id"], Is.TypeOf<string>().And.Length.EqualTo(16));
            Assert.That(line["method"], Is.EqualTo("POST"));
            Assert.That(line["path"], Is.EqualTo(VendorCase.OpenAi.GatewayPath));
            Assert.That(line["route"], Is.EqualTo("openai"));
            Assert.That(line["client"], Is.EqualTo("team-b"));
            Assert.That(line["provider"], Is.EqualTo("openai"));
            Assert.That(line["model"], Is.EqualTo("gpt-6-luna"));
            Assert.That(line["response_model"], Is.EqualTo("gpt-6-luna-2026-09-22"));
            Assert.That(line["stream"], Is.EqualTo(false));
            Assert.That(line["status"], Is.EqualTo(200));
            Assert.That(line["error_code"], Is.Null);
            Assert.That((double)line["duration_ms"]!, Is.GreaterThan(0));
            Assert.That((double)line["ttfb_ms"]!, Is.GreaterThan(0).And.LessThanOrEqualTo((double)line["duration_ms"]!));
            Assert.That(line["input_tokens"], Is.EqualTo(28));
            Assert.That(line["output_tokens"], Is.EqualTo(11));
            Assert.That(line["cost_usd"], Is.EqualTo((28 * 0.1m + 11 * 0.5m) / 1_000_000m));
            Assert.That(line["attempts"], Is.EqualTo(1));
            Assert.That(line["fallback_from"], Is.Null);
            Assert.That(line["limiter"], Is.EqualTo("admitted"));
            // What the RateLimit header told the caller was left: 1000 requests less this one.
            Assert.That(line["requests_left"], Is.EqualTo(999L));
            Assert.That(left, Does.Contain("\"requests\";r=999;"));
            Assert.That(line["tokens_left"], Is.EqualTo(long.Parse(left.Split("\"tokens\";r=")[1].Split(';')[0], CultureInfo.InvariantCulture)));
            Assert.That(line.Message, Is.EqualTo($"POST {VendorCase.OpenAi.GatewayPath} 200 in {line["duration_ms"]} ms"));
        });
    }

    [TestCaseSource(typeof(VendorCase), nameof(VendorCase.All))]
    public async Task TokensAndCost_AreTheVendorsUsage_StreamedAndNot(VendorCase vendor)
    {
        var (input, output, inputPrice, outputPrice) = Usage[vendor.Vendor];
        foreach (var body in new[] { vendor.RequestBody, Streamed(vendor) })
        {
            // The gateway's token and cost counters (running totals, read as an exporter reads them) grow by the call's.
            using var traffic = new GenAiMeasurements("Gateway.Traffic");
            double Counted(string instrument, string? tokenType = null)
            {
                var seen = traffic.All.Count;
                traffic.Observe();
                return traffic.All.Skip(seen)
                    .Where(m => m.Instrument == instrument && m.Tag("provider") == vendor.Vendor && m.Tag("client") == "team-a" && (tokenType is null || m.Tag("token_type") == tokenType))
                    .Sum(m => m.Value);
            }

            var (inputBefore, outputBefore, costBefore) = (Counted("gateway.tokens", "input"), Counted("gateway.tokens", "output"), Counted("gateway.cost.usd"));
            var (response, line) = await CallAsync(vendor.GatewayPath, Gateway.ClientKeys["team-a"], body);
            using var _ = response;
            Assert.Multiple(() =>
            {
                Assert.That(Counted("gateway.tokens", "input") - inputBefore, Is.EqualTo(input));
                Assert.That(Counted("gateway.tokens", "output") - outputBefore, Is.EqualTo(output));
                Assert.That(Counted("gateway.cost.usd") - costBefore, Is.EqualTo((double)((input * inputPrice + output * outputPrice) / 1_000_000m)).Within(1e-15));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(line["stream"], Is.EqualTo(body != vendor.RequestBody));
                Assert.That(line["input_tokens"], Is.EqualTo(input));
                Assert.That(line["output_tokens"], Is.EqualTo(output));
                Assert.That(line["cost_usd"], Is.EqualTo((input * inputPrice + output * outputPrice) / 1_000_000m));
                Assert.That(line["limiter"], Is.EqualTo("unlimited"));
                Assert.That(line["requests_left"], Is.Null);
            });
        }
    }

    [Test]
    public async Task NormalizedCall_LineNamesTheTaskRouteAndTheResolvedModel()
    {
        var (response, line) = await CallAsync("/v1/ai/generate", Gateway.ClientKeys["team-a"], """{"prompt":"Hi","model":"openai/gpt-6-luna"}""");
        using var _ = response;
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(line["route"], Is.EqualTo("generate-v1"));
            Assert.That(line["provider"], Is.EqualTo("openai"));
            Assert.That(line["model"], Is.EqualTo("gpt-6-luna"));
            Assert.That(line["input_tokens"], Is.EqualTo(28));
            Assert.That(line["output_tokens"], Is.EqualTo(11));
        });
    }

    [Test]
    public async Task RefusedCaller_GetsALineWithTheErrorCode_AndNoClient()
    {
        var (response, line) = await CallAsync(VendorCase.OpenAi.GatewayPath, "gwk_not_a_configured_key_at_all_0000000000", VendorCase.OpenAi.RequestBody);
        using var _ = response;
        Assert.Multiple(() =>
        {
            Assert.That(line["status"], Is.EqualTo(401));
            Assert.That(line["error_code"], Is.EqualTo("unauthenticated"));
            Assert.That(line["client"], Is.Null);
            Assert.That(line["provider"], Is.Null);
            Assert.That(line["limiter"], Is.Null);
            Assert.That(Gateway.Logs.AllText, Does.Not.Contain("gwk_not_a_configured_key_at_all"));
        });
    }

    [Test]
    public async Task UnmatchedPath_GetsALine()
    {
        var (response, line) = await CallAsync("/nowhere/at/all?key=sk-should-not-appear", Gateway.ClientKeys["team-a"], null, HttpMethod.Get);
        using var _ = response;
        Assert.Multiple(() =>
        {
            Assert.That(line["status"], Is.EqualTo(404));
            Assert.That(line["path"], Is.EqualTo("/nowhere/at/all"), "the query string is never written");
            Assert.That(line["error_code"], Is.EqualTo("not_found"));
        });
    }

    [Test]
    public async Task RetriedCall_LineCountsTheAttempts()
    {
        Vendors.Reset();
        var failed = VendorCase.OpenAi.ReadFixture("openai/golden/error-500.json");
        var given = Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost()).InScenario("retry");
        given.WillSetStateTo("ok").RespondWith(Response.Create().WithStatusCode(500).WithHeader("Content-Type", "application/json").WithBody(failed));
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost()).InScenario("retry").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));

        var (response, line) = await CallAsync(VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody);
        using var _ = response;
        Assert.Multiple(() =>
        {
            Assert.That(line["status"], Is.EqualTo(200));
            Assert.That(line["attempts"], Is.EqualTo(2));
            Assert.That(line["error_code"], Is.Null);
            Assert.That(line["input_tokens"], Is.EqualTo(28));
        });
    }

    [Test]
    public async Task VendorError_LineHasTheMappedErrorCode()
    {
        Vendors.Reset();
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json")
                .WithBody("""{"error":{"message":"Unknown parameter.","type":"invalid_request_error","param":null,"code":"unknown_parameter"}}"""));

        var (response, line) = await CallAsync(VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody);
        using var _ = response;
        Assert.Multiple(() =>
        {
            Assert.That(line["status"], Is.EqualTo(400));
            Assert.That(line["error_code"], Is.EqualTo("vendor_rejected_request"));
            Assert.That(line["input_tokens"], Is.Null);
            Assert.That(line["cost_usd"], Is.Null);
        });
    }
}
