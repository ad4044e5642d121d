using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Gateway.Tests.Functional;

/// <summary>Config file changes take effect without a restart; invalid ones are refused with every error, and the old config keeps serving.</summary>
public sealed class ConfigReloadTests
{
    private FakeVendors _vendors = null!;
    private WireMockServer _movedOpenAi = null!;
    private GatewayHost _gateway = null!;

    [SetUp]
    public async Task StartAsync()
    {
        _vendors = new FakeVendors();
        _movedOpenAi = WireMockServer.Start();
        foreach (var server in new[] { _vendors.OpenAi, _movedOpenAi })
        {
            server.Given(Request.Create().UsingAnyMethod())
                .RespondWith(Response.Create().WithStatusCode(200).WithBody(server == _movedOpenAi ? "moved" : "original"));
        }

        _gateway = await GatewayHost.StartAsync(_vendors.Addresses);
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        _movedOpenAi.Dispose();
        _vendors.Dispose();
    }

    private async Task<(HttpStatusCode Status, string Body)> CallAsync(string path, string client = "team-a")
    {
        using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, path, _gateway.ClientKeys[client], "{}"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task ClusterAddressChange_TakesEffectWithoutRestart()
    {
        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Body, Is.EqualTo("original"));

        _gateway.EditConfig("reverseproxy.json", c => c["ReverseProxy"]!["Clusters"]!["openai"]!["Destinations"]!["primary"]!["Address"] = _movedOpenAi.Url + "/");

        await GatewayHost.WaitUntilAsync(async () => (await CallAsync(VendorCase.OpenAi.GatewayPath)).Body == "moved", "the openai cluster points at the new address");
        Assert.That(_movedOpenAi.LogEntries.Last().RequestMessage!.Headers!["Authorization"].Single(), Is.EqualTo("Bearer " + _gateway.VendorKeys["openai"]));
    }

    [Test]
    public async Task RoutePathChange_TakesEffectWithoutRestart()
    {
        _gateway.EditConfig("reverseproxy.json", c =>
        {
            var route = c["ReverseProxy"]!["Routes"]!["openai"]!;
            route["Match"]!["Path"] = "/api/ai/gpt/{**path}";
        });

        await GatewayHost.WaitUntilAsync(async () => (await CallAsync("/api/ai/gpt/v1/chat/completions")).Body == "original", "the new route path serves");
        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Status, Is.EqualTo(HttpStatusCode.NotFound), "the old path is gone");
        Assert.That(_vendors.OpenAi.LogEntries.Last().RequestMessage!.Path, Is.EqualTo("/v1/chat/completions"));
    }

    [Test]
    public async Task InvalidProxyChange_IsRefusedWithEveryError_AndOldConfigKeepsServing()
    {
        _gateway.EditConfig("reverseproxy.json", c =>
        {
            var proxy = c["ReverseProxy"]!;
            proxy["Clusters"]!["openai"]!["Destinations"]!["primary"]!["Address"] = _movedOpenAi.Url + "/";
            proxy["Routes"]!["broken-route"] = new JsonObject { ["ClusterId"] = "openai", ["Match"] = new JsonObject() };
            proxy["Clusters"]!["mystery"] = new JsonObject
            {
                ["Destinations"] = new JsonObject { ["primary"] = new JsonObject { ["Address"] = "https://example.invalid/" } },
            };
            proxy["Clusters"]!["anthropic"]!["HttpRequest"] = new JsonObject { ["ActivityTimeout"] = "-00:00:05" };
        });

        await GatewayHost.WaitUntilAsync(() => Task.FromResult(_gateway.Logs.Contains("ReverseProxy configuration change refused")), "the change is refused");
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(_gateway.Logs.Contains("Cluster 'anthropic' HttpRequest:ActivityTimeout must be positive")), "all errors are logged");

        var refusals = _gateway.Logs.Entries.Where(e => e.Contains("ReverseProxy configuration change refused", StringComparison.Ordinal)).ToList();
        Assert.That(refusals, Has.Some.Contains("broken-route"), "the route without a match is named");
        Assert.That(refusals, Has.Some.Contains("Cluster 'mystery' is not bound to a provider"), "the cluster without a provider is named");
        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Body, Is.EqualTo("original"), "the last good config keeps serving");

        using var ready = await _gateway.Client.GetAsync("/healthz/ready");
        var readiness = await ready.Content.ReadAsStringAsync();
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK), "still serving, so still ready");
        Assert.That(readiness, Does.Contain("Degraded").And.Contain("mystery"));
    }

    [Test]
    public async Task InvalidGatewayChange_IsRefusedWithEveryError_AndOldClientsKeepWorking()
    {
        _gateway.EditConfig(GatewayHost.OverridesFile, c =>
        {
            var gateway = c["Gateway"]!;
            gateway["Clients"]!["team-a"]!["KeySha256"] = "not-a-hash";
            gateway["Clients"]!["team-b"]!["Providers"] = new JsonArray("openai", "mistral");
            gateway["Providers"]!["cohere"]!["Vendor"] = "palm";
        });

        await GatewayHost.WaitUntilAsync(() => Task.FromResult(_gateway.Logs.Contains("Gateway:Providers:cohere:Vendor 'palm'")), "the change is refused");
        Assert.Multiple(() =>
        {
            Assert.That(_gateway.Logs.Contains("Gateway:Clients:team-a:KeySha256 must be the 64-character hex SHA-256"));
            Assert.That(_gateway.Logs.Contains("Gateway:Clients:team-b:Providers names 'mistral'"));
        });

        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Status, Is.EqualTo(HttpStatusCode.OK), "team-a's key still works");
    }

    [Test]
    public async Task NewClientInConfig_IsAcceptedWithoutRestart()
    {
        var key = Gateway.Auth.ClientKeyHasher.NewKey();
        _gateway.EditConfig(GatewayHost.OverridesFile, c =>
            c["Gateway"]!["Clients"]!["team-new"] = new JsonObject { ["KeySha256"] = Gateway.Auth.ClientKeyHasher.HashHex(key) });

        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, key, "{}"));
            return response.StatusCode == HttpStatusCode.OK;
        }, "the new client's key is accepted");
    }
}
