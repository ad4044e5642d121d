using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>Several keys per provider, so a rotation can overlap the old and the new key.</summary>
public sealed class MultipleKeysTests
{
    private FakeVendors _vendors = null!;
    private string _directory = null!;

    [SetUp]
    public void SetUp()
    {
        _vendors = new FakeVendors();
        _directory = Directory.CreateTempSubdirectory("keys-").FullName;
        File.WriteAllText(Path.Combine(_directory, "old"), "sk-proj-overlap-old-key-000000001");
        File.WriteAllText(Path.Combine(_directory, "new"), "sk-proj-overlap-new-key-000000002");
    }

    [TearDown]
    public void TearDown()
    {
        _vendors.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private Task<GatewayHost> StartAsync(string selection) => GatewayHost.StartAsync(_vendors.Addresses, editOverrides: o =>
    {
        var openai = o["Gateway"]!["Providers"]!["openai"]!.AsObject();
        openai.Remove("ApiKey");
        openai["ApiKeys"] = new JsonArray("file:" + Path.Combine(_directory, "old"), "file:" + Path.Combine(_directory, "new"));
        openai["KeySelection"] = selection;
    });

    private void VendorAccepts(params string[] keys)
    {
        _vendors.OpenAi.Given(Request.Create().UsingPost()).AtPriority(5)
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json").WithBody("""{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"""));
        foreach (var key in keys)
        {
            _vendors.OpenAi.Given(Request.Create().UsingPost().WithHeader("Authorization", "Bearer " + key)).AtPriority(1)
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        }
    }

    private IEnumerable<string> KeysSent() => _vendors.OpenAi.LogEntries.Select(e => e.RequestMessage!.Headers!["Authorization"].Single()["Bearer ".Length..]);

    [Test]
    public async Task RoundRobin_AlternatesKeys()
    {
        VendorAccepts("sk-proj-overlap-old-key-000000001", "sk-proj-overlap-new-key-000000002");
        await using var gateway = await StartAsync("round-robin");
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(KeysSent().Distinct().Count(), Is.EqualTo(2));
        Assert.That(KeysSent().Count(k => k.EndsWith("1", StringComparison.Ordinal)), Is.EqualTo(2));
    }

    [Test]
    public async Task Failover_OldKeyRevoked_RetriesWithTheNextKey_AndKeepsUsingIt()
    {
        VendorAccepts("sk-proj-overlap-new-key-000000002");
        await using var gateway = await StartAsync("failover");
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(KeysSent(), Is.EqualTo(new[]
        {
            "sk-proj-overlap-old-key-000000001", "sk-proj-overlap-new-key-000000002", "sk-proj-overlap-new-key-000000002", "sk-proj-overlap-new-key-000000002",
        }), "one 401 on the old key, then the new key");
    }

    [Test]
    public async Task Vendor401ThatIsNotAKeyVerdict_DoesNotSteerKeySelection_ForAnyone()
    {
        VendorAccepts("sk-proj-overlap-old-key-000000001", "sk-proj-overlap-new-key-000000002");
        // A call the key may not make (a restricted key's missing scope) is refused with 401, but says nothing of the key.
        _vendors.OpenAi.Given(Request.Create().UsingPost().WithBody(b => b != null && b.Contains("gpt-restricted"))).AtPriority(0)
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json").WithBody(
                """{"error":{"message":"You have insufficient permissions for this operation. Missing scopes: model.request.","type":"invalid_request_error","param":null,"code":null}}"""));
        await using var gateway = await StartAsync("failover");

        for (var i = 0; i < 3; i++)
        {
            using var steering = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-b"],
                """{"model":"gpt-restricted","messages":[{"role":"user","content":"hi"}]}"""));
            var problem = await ProblemAssert.IsProblemAsync(steering, HttpStatusCode.BadGateway, "vendor_auth_failed", "POST " + VendorCase.OpenAi.GatewayPath);
            Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Missing scopes"));
        }

        using var other = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        Assert.That(KeysSent(), Has.All.EqualTo("sk-proj-overlap-old-key-000000001"), "no retry with the other key, and everyone keeps the first key");
        Assert.That(KeysSent().Count(), Is.EqualTo(4));
        Assert.That(gateway.Logs.Entries, Has.None.StartWith("Error"), "nothing to page anyone about: the key is fine");
    }
}
