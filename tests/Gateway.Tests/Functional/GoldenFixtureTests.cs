using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// Each vendor's documented edge cases (truncation, refusal, empty output, malformed bodies, error bodies, cut
/// streams) map to the right result or problem on the normalized endpoints; none is a 500.
/// </summary>
public sealed class GoldenFixtureTests : GatewayFixture
{
    private const string Endpoint = "/v1/ai/generate";

    [SetUp]
    public void ResetVendors() => Vendors.Reset();

    private async Task<HttpResponseMessage> CallAsync(TaskVendorCase vendor, string fixture, int vendorStatus, bool stream, string contentType = "application/json", string? retryAfter = null)
    {
        var body = File.ReadAllText(Path.Combine(RepoPaths.Fixtures, vendor.Name, "golden", fixture));
        var response = Response.Create().WithStatusCode(vendorStatus).WithHeader("Content-Type", contentType).WithBody(body);
        if (retryAfter is not null)
        {
            response = response.WithHeader("retry-after", retryAfter);
        }

        Vendors[vendor.Name].Given(Request.Create().WithPath(vendor.Vendor.VendorPath).UsingPost()).RespondWith(response);
        var request = new JsonObject { ["prompt"] = "Summarize the following email.", ["model"] = vendor.Model, ["stream"] = stream };
        return await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, Endpoint, Gateway.ClientKeys["team-a"], request.ToJsonString()));
    }

    private static TaskVendorCase Vendor(string name) => TaskVendorCase.All.Single(v => v.Name == name);

    [TestCase("openai", "length.json")]
    [TestCase("anthropic", "max-tokens.json")]
    [TestCase("cohere", "max-tokens.json")]
    public async Task LengthTruncated_Is200WithFinishReasonLength(string vendor, string fixture)
    {
        using var response = await CallAsync(Vendor(vendor), fixture, 200, stream: false);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        Assert.That(body.GetProperty("finish_reason").GetString(), Is.EqualTo("length"));
        Assert.That(body.GetProperty("output").GetString(), Is.EqualTo("Customer requests invoice review and"));
        Assert.That(body.GetProperty("usage").GetProperty("output_tokens").GetInt32(), Is.EqualTo(5));
    }

    [TestCase("openai", "refusal.json", 200, HttpStatusCode.UnprocessableEntity, "content_filtered", "I'm sorry")]
    [TestCase("openai", "content-filter.json", 200, HttpStatusCode.UnprocessableEntity, "content_filtered", "refused or filtered")]
    [TestCase("anthropic", "refusal.json", 200, HttpStatusCode.UnprocessableEntity, "content_filtered", "refused or filtered")]
    [TestCase("openai", "empty.json", 200, HttpStatusCode.BadGateway, "empty_completion", "no text")]
    [TestCase("openai", "null-content.json", 200, HttpStatusCode.BadGateway, "empty_completion", "no text")]
    [TestCase("anthropic", "empty.json", 200, HttpStatusCode.BadGateway, "empty_completion", "no text")]
    [TestCase("cohere", "empty.json", 200, HttpStatusCode.BadGateway, "empty_completion", "no text")]
    [TestCase("openai", "malformed.json", 200, HttpStatusCode.BadGateway, "vendor_bad_response", "not valid JSON")]
    [TestCase("openai", "no-choices.json", 200, HttpStatusCode.BadGateway, "vendor_bad_response", "no choices")]
    [TestCase("anthropic", "malformed.json", 200, HttpStatusCode.BadGateway, "vendor_bad_response", "not valid JSON")]
    [TestCase("cohere", "malformed.json", 200, HttpStatusCode.BadGateway, "vendor_bad_response", "not valid JSON")]
    [TestCase("openai", "error-401.json", 401, HttpStatusCode.BadGateway, "vendor_auth_failed", "Incorrect API key provided")]
    [TestCase("anthropic", "error-401.json", 401, HttpStatusCode.BadGateway, "vendor_auth_failed", "invalid x-api-key")]
    [TestCase("cohere", "error-401.json", 401, HttpStatusCode.BadGateway, "vendor_auth_failed", "invalid api token")]
    [TestCase("openai", "error-401.json", 403, HttpStatusCode.BadGateway, "vendor_auth_failed", "answered 403")]
    [TestCase("openai", "error-400.json", 400, HttpStatusCode.BadRequest, "vendor_rejected_request", "maximum context length")]
    [TestCase("anthropic", "error-400.json", 400, HttpStatusCode.BadRequest, "vendor_rejected_request", "prompt is too long")]
    [TestCase("cohere", "error-400.json", 400, HttpStatusCode.BadRequest, "vendor_rejected_request", "not found")]
    [TestCase("openai", "error-500.json", 500, HttpStatusCode.BadGateway, "vendor_unavailable", "server had an error")]
    [TestCase("openai", "error-500.json", 503, HttpStatusCode.BadGateway, "vendor_unavailable", "answered 503")]
    [TestCase("anthropic", "error-529.json", 529, HttpStatusCode.BadGateway, "vendor_unavailable", "Overloaded")]
    [TestCase("cohere", "error-500.json", 500, HttpStatusCode.BadGateway, "vendor_unavailable", "internal server error")]
    public async Task EdgeCase_IsTheRightProblem(string vendor, string fixture, int vendorStatus, HttpStatusCode status, string code, string detail)
    {
        using var response = await CallAsync(Vendor(vendor), fixture, vendorStatus, stream: false);
        var problem = await ProblemAssert.IsProblemAsync(response, status, code, "POST " + Endpoint);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(detail));
    }

    [TestCase("openai")]
    [TestCase("anthropic")]
    [TestCase("cohere")]
    public async Task VendorRateLimit_Is429RateLimited_WithTheVendorsRetryAfter(string vendor)
    {
        // A wait above the retry cap (30 s by default): the gateway does not try again, the caller gets the wait at once.
        using var response = await CallAsync(Vendor(vendor), "error-429.json", 429, stream: false, retryAfter: "117");
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.TooManyRequests, "rate_limited", "POST " + Endpoint);
        Assert.That(response.Headers.RetryAfter!.Delta, Is.EqualTo(TimeSpan.FromSeconds(117)));
    }

    [TestCase("openai")]
    [TestCase("anthropic")]
    [TestCase("cohere")]
    public async Task VendorAuthFailed_Detail_ReadsAsSentences(string vendor)
    {
        using var response = await CallAsync(Vendor(vendor), "error-401.json", 401, stream: false);
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "vendor_auth_failed", "POST " + Endpoint);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.That(detail, Does.Not.Contain("..").And.Not.Contain(". .").And.EndsWith("."), detail);
    }

    [Test]
    public async Task VendorKeyInErrorMessage_IsMaskedInDetail()
    {
        using var response = await CallAsync(TaskVendorCase.OpenAi, "error-401.json", 401, stream: false);
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "vendor_auth_failed", "POST " + Endpoint);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Not.Contain("sk-proj").And.Not.Contain("abcd").And.Contain("[redacted]"));
    }

    [Test]
    public async Task HtmlErrorPageFromAProxy_IsVendorUnavailable()
    {
        Vendors.OpenAi.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(502).WithHeader("Content-Type", "text/html").WithBody("<html><body><h1>502 Bad Gateway</h1></body></html>"));
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, Endpoint, Gateway.ClientKeys["team-a"], """{"prompt":"Hi"}"""));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "vendor_unavailable", "POST " + Endpoint);
    }

    [TestCase("openai", "stream-truncated.sse", "vendor_unavailable", "ended before")]
    [TestCase("anthropic", "stream-truncated.sse", "vendor_unavailable", "ended before")]
    [TestCase("cohere", "stream-truncated.sse", "vendor_unavailable", "ended before")]
    [TestCase("openai", "stream-error.sse", "vendor_unavailable", "server had an error")]
    [TestCase("anthropic", "stream-error.sse", "vendor_unavailable", "Overloaded")]
    [TestCase("openai", "stream-refusal.sse", "content_filtered", "I'm sorry")]
    public async Task BrokenStream_EndsWithAnErrorEvent(string vendor, string fixture, string code, string detail)
    {
        using var response = await CallAsync(Vendor(vendor), fixture, 200, stream: true, contentType: "text/event-stream");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var events = await new InternalEvents(await response.Content.ReadAsStreamAsync()).ReadToEndAsync();

        var last = events.Last();
        Assert.That(last.Name, Is.EqualTo("error"), string.Join(", ", events.Select(e => e.Name)));
        Assert.That(last.Data.GetProperty("code").GetString(), Is.EqualTo(code));
        Assert.That(last.Data.GetProperty("detail").GetString(), Does.Contain(detail));
        Assert.That(last.Data.GetProperty("requestId").GetString(), Is.EqualTo(response.Headers.GetValues("x-request-id").Single()));
        Assert.That(events.Select(e => e.Name), Has.None.EqualTo("done"));
    }

    [Test]
    public async Task StreamRequest_VendorRefusesKey_IsAProblemNotAStream()
    {
        using var response = await CallAsync(TaskVendorCase.Anthropic, "error-401.json", 401, stream: true);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "vendor_auth_failed", "POST " + Endpoint);
    }

    [TestCase("openai", "malformed.json")]
    [TestCase("anthropic", "malformed.json")]
    [TestCase("cohere", "malformed.json")]
    [TestCase("openai", "empty.json")]
    public async Task StreamRequest_VendorAnswersJsonInstead_IsVendorBadResponse(string vendor, string fixture)
    {
        // Asked for a stream, the vendor sent a (here truncated or whole) JSON body: not its documented stream.
        using var response = await CallAsync(Vendor(vendor), fixture, 200, stream: true, contentType: "application/json");
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "vendor_bad_response", "POST " + Endpoint);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("text/event-stream"));
    }
}
