using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

public sealed class PassthroughTests : GatewayFixture
{

    [SetUp]
    public void ResetVendors() => Vendors.Reset();

    private static IEnumerable<VendorCase> AllVendors => VendorCase.All;

    [TestCaseSource(nameof(AllVendors))]
    public async Task Passthrough_InjectsVendorKeyAndStripsCallerCredentials(VendorCase vendor)
    {
        var fake = Vendors[vendor.Vendor];
        var body = vendor.ReadFixture(vendor.ResponseFixture);
        fake.Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200)
                .WithHeader("Content-Type", "application/json")
                .WithHeader("x-request-id", "req_vendor_7f3a")
                .WithHeader("x-ratelimit-remaining-requests", "4999")
                .WithBody(body));

        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody);
        request.Headers.Add("x-api-key", "caller-x-api-key-secret");
        request.Headers.Add("api-key", "caller-azure-key-secret");
        request.Headers.Add("Cookie", "session=caller-cookie-secret");
        request.Headers.Add("Proxy-Authorization", "Basic caller-proxy-secret");
        request.Headers.Add("X-Forwarded-For", "10.20.30.40");
        request.Headers.Add("X-Forwarded-Host", "ai-gateway.internal.corp");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("Forwarded", "for=10.20.30.40;host=ai-gateway.internal.corp");
        request.Headers.Add("X-Real-IP", "10.20.30.40");
        request.Headers.Add("X-Custom-Tag", "kept");
        request.Headers.Add("x-gateway-user", "alice@corp");
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");

        using var response = await Gateway.Client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(body), "the vendor's body reaches the caller unchanged");
        Assert.Multiple(() =>
        {
            Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo("application/json"));
            Assert.That(response.Headers.GetValues("x-ratelimit-remaining-requests"), Is.EqualTo(new[] { "4999" }));
            Assert.That(response.Headers.GetValues("x-request-id").Single(), Is.EqualTo(traceId), "the gateway's request id is the W3C trace id");
            Assert.That(response.Headers.GetValues("x-vendor-request-id").Single(), Is.EqualTo("req_vendor_7f3a"), "the vendor's own id is kept");
        });

        var received = fake.LogEntries.Single().RequestMessage!;
        var headers = received.Headers!.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        Assert.Multiple(() =>
        {
            Assert.That(headers[vendor.CredentialHeader], Is.EqualTo(vendor.CredentialPrefix + Gateway.VendorKeys[vendor.Vendor]));
            Assert.That(headers.Keys, Has.None.StartsWith("X-Forwarded-").IgnoreCase.And.None.StartsWith("x-gateway-").IgnoreCase);
            Assert.That(headers.Keys, Has.None.EqualTo("Forwarded").IgnoreCase.Or.EqualTo("X-Real-IP").IgnoreCase
                .Or.EqualTo("Cookie").IgnoreCase.Or.EqualTo("api-key").IgnoreCase.Or.EqualTo("Proxy-Authorization").IgnoreCase);
            Assert.That(headers.Values, Has.None.Contains(Gateway.ClientKeys["team-a"]), "the caller's gateway key never reaches the vendor");
            Assert.That(headers.Values, Has.None.Contains("caller-").And.None.Contains("10.20.30.40").And.None.Contains("internal.corp"));
            Assert.That(headers["X-Custom-Tag"], Is.EqualTo("kept"));
            Assert.That(headers["traceparent"], Does.StartWith($"00-{traceId}-"), "trace context is forwarded to the vendor");
            Assert.That(headers["Host"], Is.EqualTo(new Uri(fake.Url!).Authority));
            Assert.That(received.Body, Is.EqualTo(vendor.RequestBody));
        });
        if (vendor == VendorCase.Anthropic)
        {
            Assert.That(headers["anthropic-version"], Is.EqualTo("2023-06-01"), "added when the caller sent none");
            Assert.That(headers.Keys, Has.None.EqualTo("Authorization").IgnoreCase);
        }
        else
        {
            Assert.That(headers.Keys, Has.None.EqualTo("x-api-key").IgnoreCase);
        }
    }

    [TestCaseSource(nameof(AllVendors))]
    public async Task Passthrough_ClientKeyInXApiKeyHeader_IsAccepted(VendorCase vendor)
    {
        Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));

        using var request = Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody, useApiKeyHeader: true);
        using var response = await Gateway.Client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var headers = Vendors[vendor.Vendor].LogEntries.Single().RequestMessage!.Headers!;
        Assert.That(headers.Values.SelectMany(v => v), Has.None.Contains(Gateway.ClientKeys["team-a"]));
    }

    [Test]
    public async Task Passthrough_CallerAnthropicVersion_IsKept()
    {
        var vendor = VendorCase.Anthropic;
        Vendors.Anthropic.Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(vendor.ReadFixture(vendor.ResponseFixture)));

        using var request = Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody, useApiKeyHeader: true);
        request.Headers.Add("anthropic-version", "2024-01-01");
        request.Headers.Add("anthropic-beta", "prompt-caching-2024-07-31");
        using var response = await Gateway.Client.SendAsync(request);

        var headers = Vendors.Anthropic.LogEntries.Single().RequestMessage!.Headers!;
        Assert.That(string.Join(",", headers["anthropic-version"]), Is.EqualTo("2024-01-01"));
        Assert.That(string.Join(",", headers["anthropic-beta"]), Is.EqualTo("prompt-caching-2024-07-31"));
    }

    [TestCaseSource(nameof(AllVendors))]
    public async Task Passthrough_VendorError_ReachesCallerUnchanged(VendorCase vendor)
    {
        const string errorBody = """{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";
        Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Content-Type", "application/json").WithHeader("retry-after", "20").WithBody(errorBody));

        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody));

        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/json"));
            Assert.That(response.Headers.RetryAfter!.Delta, Is.EqualTo(TimeSpan.FromSeconds(20)));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(errorBody));
        });
    }

    [Test]
    public async Task Passthrough_CallerWithoutTraceContext_VendorGetsTheGatewaysTrace()
    {
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));

        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));

        var requestId = response.Headers.GetValues("x-request-id").Single();
        var traceparent = Vendors.OpenAi.LogEntries.Single().RequestMessage!.Headers!["traceparent"].Single();
        Assert.That(traceparent, Does.Match($"^00-{requestId}-[0-9a-f]{{16}}-0[01]$"));
    }

    [Test]
    public async Task Passthrough_GetWithQuery_KeepsPathAndQuery()
    {
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/models").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"}]}"""));

        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Get, "/api/ai/openai/v1/models?limit=2&after=x", Gateway.ClientKeys["team-a"]));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var received = Vendors.OpenAi.LogEntries.Single().RequestMessage!;
        Assert.That(received.Path, Is.EqualTo("/v1/models"));
        Assert.That(received.RawQuery, Is.EqualTo("?limit=2&after=x"));
    }

    [Test]
    public async Task Passthrough_VendorUnreachable_Is502Problem()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["openai"] = "http://127.0.0.1:9/" });
        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "vendor_unavailable", "POST " + VendorCase.OpenAi.GatewayPath);

        using var normalized = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/ai/generate", gateway.ClientKeys["team-a"], "{\"prompt\":\"Hi\"}"));
        await ProblemAssert.IsProblemAsync(normalized, HttpStatusCode.BadGateway, "vendor_unavailable", "POST /v1/ai/generate");
    }

    [Test]
    public async Task UnknownRoute_Is404Problem()
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/api/ai/mistral/v1/chat", Gateway.ClientKeys["team-a"], "{}"));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, "not_found", "POST /api/ai/mistral/v1/chat");
    }

    [Test]
    public async Task Health_LiveAndReady_Answer200()
    {
        using var live = await Gateway.Client.GetAsync("/healthz/live");
        using var ready = await Gateway.Client.GetAsync("/healthz/ready");
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await ready.Content.ReadAsStringAsync(), Does.Contain("\"status\":\"Healthy\""));
        Assert.That(live.Headers.Contains("x-request-id"), Is.True);
    }
}
