using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>401, 403 and 413 are answered by the gateway as problems, before any vendor is called.</summary>
public sealed class AdmissionErrorTests : GatewayFixture
{
    private const int BodyLimit = 1024;

    protected override void EditOverrides(System.Text.Json.Nodes.JsonObject overrides)
        => overrides["Gateway"]!["Limits"] = new System.Text.Json.Nodes.JsonObject { ["MaxRequestBodyBytes"] = BodyLimit };

    [OneTimeSetUp]
    public void VendorsAnswer()
    {
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].Given(Request.Create().UsingAnyMethod())
                .RespondWith(Response.Create().WithStatusCode(200).WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
        }
    }

    [SetUp]
    public void ClearVendorLogs()
    {
        Vendors.OpenAi.ResetLogEntries();
        Vendors.Anthropic.ResetLogEntries();
        Vendors.Cohere.ResetLogEntries();
    }

    [TearDown]
    public void NoVendorWasCalled()
    {
        Assert.That(Vendors.OpenAi.LogEntries.Count() + Vendors.Anthropic.LogEntries.Count() + Vendors.Cohere.LogEntries.Count(), Is.Zero,
            "a refused request must never reach a vendor");
    }

    private static IEnumerable<VendorCase> AllVendors => VendorCase.All;

    [TestCaseSource(nameof(AllVendors))]
    public async Task MissingKey_Is401Problem(VendorCase vendor)
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, vendor.GatewayPath, clientKey: null, vendor.RequestBody));
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated", "POST " + vendor.GatewayPath);
        Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo("Present a gateway client key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'."),
            "the help text is not mistaken for a credential");
    }

    [TestCase("openai", "authentication_error")]
    [TestCase("anthropic", "authentication_error")]
    [TestCase("cohere", "authentication_error")]
    public async Task PassthroughProblem_CarriesTheVendorsErrorMembers_ForItsSdks(string vendorName, string type)
    {
        var vendor = VendorCase.All.Single(v => v.Vendor == vendorName);
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, vendor.GatewayPath, clientKey: null, vendor.RequestBody));
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated", "POST " + vendor.GatewayPath);

        var error = problem.GetProperty("error");
        Assert.That(error.GetProperty("message").GetString(), Is.EqualTo(problem.GetProperty("detail").GetString()));
        Assert.That(error.GetProperty("type").GetString(), Is.EqualTo(type));
        if (vendorName != "anthropic")
        {
            Assert.That(error.GetProperty("code").GetString(), Is.EqualTo("unauthenticated"));
        }
    }

    [Test]
    public async Task NormalizedProblem_HasNoVendorMembers()
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", clientKey: null, "{}"));
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated", "POST /v1/ai/generate");
        Assert.That(problem.TryGetProperty("error", out _), Is.False, "the internal schema's errors are plain problems");
    }

    [TestCase("gwk_not-a-key-of-any-client", false)]
    [TestCase("gwk_not-a-key-of-any-client", true)]
    [TestCase("", false)]
    public async Task UnknownKey_Is401Problem(string key, bool inApiKeyHeader)
    {
        var path = VendorCase.OpenAi.GatewayPath;
        using var request = Gateway.Request(HttpMethod.Post, path, key, VendorCase.OpenAi.RequestBody, inApiKeyHeader);
        using var response = await Gateway.Client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated", "POST " + path);
    }

    [Test]
    public async Task OverlongKey_Is401Problem()
    {
        var path = VendorCase.OpenAi.GatewayPath;
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, path, new string('k', 5000), VendorCase.OpenAi.RequestBody));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated", "POST " + path);
    }

    [Test]
    public async Task BasicAuthorization_Is401Problem()
    {
        var path = VendorCase.OpenAi.GatewayPath;
        using var request = Gateway.Request(HttpMethod.Post, path, clientKey: null, VendorCase.OpenAi.RequestBody);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("team-a:" + Gateway.ClientKeys["team-a"])));
        using var response = await Gateway.Client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated", "POST " + path);
    }

    [TestCase("team-b", "anthropic", "provider 'anthropic'")]
    [TestCase("team-b", "cohere", "provider 'cohere'")]
    [TestCase("team-c", "openai", "route 'openai'")]
    [TestCase("team-c", "anthropic", "route 'anthropic'")]
    public async Task OutsideScope_Is403Problem(string client, string vendorName, string named)
    {
        var vendor = VendorCase.All.Single(v => v.Vendor == vendorName);
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys[client], vendor.RequestBody));
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden, "forbidden", "POST " + vendor.GatewayPath);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(named).And.Contain(client));
    }

    [TestCaseSource(nameof(AllVendors))]
    public async Task DeclaredBodyOverLimit_Is413Problem(VendorCase vendor)
    {
        var body = """{"messages":[{"role":"user","content":" """ + new string('x', BodyLimit) + "\"}]}";
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], body));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "POST " + vendor.GatewayPath);
    }

    [Test]
    public async Task ChunkedBodyOverLimit_Is413Problem()
    {
        var path = VendorCase.OpenAi.GatewayPath;
        using var request = Gateway.Request(HttpMethod.Post, path, Gateway.ClientKeys["team-a"]);
        request.Content = new StreamContent(new ChunkedOnlyStream(Encoding.UTF8.GetBytes(new string('x', BodyLimit * 4))));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        using var response = await Gateway.Client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large", "POST " + path);
    }

    [Test]
    public async Task ChunkedBodyUnderLimit_IsForwardedWhole()
    {
        var path = VendorCase.OpenAi.GatewayPath;
        var body = VendorCase.OpenAi.RequestBody;
        using var request = Gateway.Request(HttpMethod.Post, path, Gateway.ClientKeys["team-a"]);
        request.Content = new StreamContent(new ChunkedOnlyStream(Encoding.UTF8.GetBytes(body)));
        request.Headers.TransferEncodingChunked = true;
        using var response = await Gateway.Client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Vendors.OpenAi.LogEntries.Single().RequestMessage!.Body, Is.EqualTo(body));
        Vendors.OpenAi.ResetLogEntries(); // this one was meant to reach the vendor
    }

    /// <summary>A stream with no known length, so HttpClient must send it chunked.</summary>
    private sealed class ChunkedOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
