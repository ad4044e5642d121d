using System.Net;
using System.Text.Json.Nodes;
using Gateway.Auth;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// A client's own vendor key (<c>Gateway:Clients:{id}:ProviderKeys:{provider}</c>) is used for that client's calls in
/// place of the provider's shared key, on passthrough and normalized routes, so each team's spend shows on its own key.
/// </summary>
public sealed class ClientVendorKeyTests
{
    private const string SharedKey = "sk-proj-shared-key-00000000000001";
    private const string TeamAKey = "sk-proj-team-a-own-key-0000000001";
    private const string TeamBKey = "sk-proj-team-b-own-key-0000000002";
    private FakeVendors _vendors = null!;
    private string _directory = null!;
    private string _teamBVariable = null!;
    private readonly string _teamDKey = ClientKeyHasher.NewKey();
    private readonly List<GatewayHost> _gateways = [];

    [SetUp]
    public void SetUp()
    {
        _vendors = new FakeVendors();
        _directory = Directory.CreateTempSubdirectory("client-keys-").FullName;
        File.WriteAllText(Path.Combine(_directory, "shared"), SharedKey);
        File.WriteAllText(Path.Combine(_directory, "team-a"), TeamAKey);
        _teamBVariable = "GWTEST_TEAM_B_OPENAI_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(_teamBVariable, TeamBKey);
    }

    [TearDown]
    public void TearDown()
    {
        // No vendor key (shared, a client's own, a rotated one) and no client key in any log line at Trace level.
        foreach (var gateway in _gateways)
        {
            string[] secrets = [SharedKey, TeamAKey, TeamBKey, "sk-proj-team-b-rotated-key-000003", "sk-proj-team-a-rotated-key-000004", _teamDKey, .. gateway.ClientKeys.Values];
            Assert.That(gateway.Logs.Entries.Where(e => secrets.Any(k => e.Contains(k, StringComparison.Ordinal))), Is.Empty);
        }

        _vendors.Dispose();
        Directory.Delete(_directory, recursive: true);
        Environment.SetEnvironmentVariable(_teamBVariable, null);
    }

    // team-a's key from a file, team-b's from an environment variable; team-d (a client added here, allowed everything)
    // has none of its own. Polls an hour apart: a change must arrive by the file watcher or by a vendor's 401.
    private async Task<GatewayHost> StartAsync(Action<JsonObject>? edit = null)
    {
        var gateway = await GatewayHost.StartAsync(_vendors.Addresses, editOverrides: o => Configure(o, edit));
        _gateways.Add(gateway);
        return gateway;
    }

    private void Configure(JsonObject o, Action<JsonObject>? edit)
    {
        var gateway = o["Gateway"]!;
        gateway["Providers"]!["openai"]!["ApiKey"] = "file:" + Path.Combine(_directory, "shared");
        gateway["Secrets"] = new JsonObject { ["PollInterval"] = "01:00:00" };
        gateway["Clients"]!["team-a"]!["ProviderKeys"] = new JsonObject { ["openai"] = "file:" + Path.Combine(_directory, "team-a") };
        gateway["Clients"]!["team-b"]!["ProviderKeys"] = new JsonObject { ["openai"] = "env:" + _teamBVariable };
        gateway["Clients"]!["team-d"] = new JsonObject { ["KeySha256"] = ClientKeyHasher.HashHex(_teamDKey) };
        edit?.Invoke(o);
    }

    private void VendorAccepts(params string[] keys)
    {
        _vendors.OpenAi.Given(Request.Create().UsingPost()).AtPriority(5)
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json")
                .WithBody("""{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"""));
        foreach (var key in keys)
        {
            _vendors.OpenAi.Given(Request.Create().UsingPost().WithHeader("Authorization", "Bearer " + key)).AtPriority(1)
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                    .WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        }
    }

    private string LastKeySent() => _vendors.OpenAi.LogEntries.Last().RequestMessage!.Headers!["Authorization"].Single()["Bearer ".Length..];

    private static HttpRequestMessage Passthrough(GatewayHost gateway, string clientKey)
        => gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, clientKey, VendorCase.OpenAi.RequestBody);

    private static HttpRequestMessage Normalized(GatewayHost gateway, string clientKey)
        => gateway.Request(HttpMethod.Post, "/v1/ai/generate", clientKey, $$"""{"model": "{{TaskVendorCase.OpenAi.Model}}", "prompt": "Say hello."}""");

    [Test]
    public async Task TwoClients_ReachTheVendorWithTheirOwnKeys_AThirdUsesTheSharedKey_OnBothRouteKinds()
    {
        VendorAccepts(SharedKey, TeamAKey, TeamBKey);
        await using var gateway = await StartAsync();
        var callers = new (string Client, string ClientKey, string Expected)[]
        {
            ("team-a", gateway.ClientKeys["team-a"], TeamAKey),
            ("team-b", gateway.ClientKeys["team-b"], TeamBKey),
            ("team-d", _teamDKey, SharedKey),
        };
        foreach (var route in new Func<GatewayHost, string, HttpRequestMessage>[] { Passthrough, Normalized })
        {
            foreach (var (client, clientKey, expected) in callers)
            {
                using var response = await gateway.Client.SendAsync(route(gateway, clientKey));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
                Assert.That(LastKeySent(), Is.EqualTo(expected), $"the key {client}'s call reached the vendor with");
            }
        }

        Assert.That(_vendors.OpenAi.LogEntries.Count, Is.EqualTo(6), "one vendor call per request: no 401, no retry");
    }

    [Test]
    public async Task ClientsOwnKeyRotated_AVendor401ForcesARereadOfThatKey_AndTheCallSucceeds()
    {
        const string rotated = "sk-proj-team-b-rotated-key-000003";
        VendorAccepts(SharedKey, TeamAKey, TeamBKey);
        await using var gateway = await StartAsync();
        using (var first = await gateway.Client.SendAsync(Passthrough(gateway, gateway.ClientKeys["team-b"])))
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        // The vendor revokes team-b's key and team-b's variable now holds the new one (no watcher, no poll for an hour).
        _vendors.OpenAi.Reset();
        VendorAccepts(SharedKey, TeamAKey, rotated);
        Environment.SetEnvironmentVariable(_teamBVariable, rotated);
        _vendors.OpenAi.ResetLogEntries();

        using var response = await gateway.Client.SendAsync(Passthrough(gateway, gateway.ClientKeys["team-b"]));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That(_vendors.OpenAi.LogEntries.Select(e => e.RequestMessage!.Headers!["Authorization"].Single()["Bearer ".Length..]),
            Is.EqualTo(new[] { TeamBKey, rotated }), "refused with the old key, re-read, sent once more with the new");

        // The shared key and team-a's were not touched by team-b's rotation.
        using var shared = await gateway.Client.SendAsync(Passthrough(gateway, _teamDKey));
        Assert.That(LastKeySent(), Is.EqualTo(SharedKey));
        using var teamA = await gateway.Client.SendAsync(Passthrough(gateway, gateway.ClientKeys["team-a"]));
        Assert.That(LastKeySent(), Is.EqualTo(TeamAKey));
    }

    [Test]
    public async Task ClientsOwnKeyFileRotated_IsPickedUpByTheWatcher()
    {
        const string rotated = "sk-proj-team-a-rotated-key-000004";
        VendorAccepts(SharedKey, TeamAKey, TeamBKey, rotated);
        await using var gateway = await StartAsync();
        await File.WriteAllTextAsync(Path.Combine(_directory, "team-a"), rotated);
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var response = await gateway.Client.SendAsync(Passthrough(gateway, gateway.ClientKeys["team-a"]));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            return LastKeySent() == rotated;
        }, "team-a's rotated key is used");
    }

    [Test]
    public async Task ClientsOwnKeyUnreadable_Is503NamingTheClientsSetting_NeverTheSharedKey()
    {
        VendorAccepts(SharedKey, TeamAKey, TeamBKey);
        var unset = "GWTEST_UNSET_" + Guid.NewGuid().ToString("N");
        await using var gateway = await StartAsync(o => o["Gateway"]!["Clients"]!["team-b"]!["ProviderKeys"]!["openai"] = "env:" + unset);

        using var response = await gateway.Client.SendAsync(Passthrough(gateway, gateway.ClientKeys["team-b"]));
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable, "vendor_key_missing", "POST " + VendorCase.OpenAi.GatewayPath);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Gateway:Clients:team-b:ProviderKeys:openai").And.Contain(unset));
        Assert.That(_vendors.OpenAi.LogEntries, Is.Empty, "team-b's spend never goes on the shared key");

        // Readiness names the unresolved reference, and still serves (the other clients' keys and the shared one work).
        using var ready = await gateway.Client.GetAsync("/healthz/ready");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.That(body, Does.Contain(unset));
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
    }
}
