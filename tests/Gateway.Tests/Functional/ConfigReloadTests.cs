using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
        using var reloads = new GenAiMeasurements("Gateway.Config");
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
        reloads.Observe();
        Assert.That(reloads.All.Where(m => m.Instrument == "gateway.config.reloads" && m.Tag("outcome") == "refused" && m.Tag("part")!.StartsWith("ReverseProxy", StringComparison.Ordinal)),
            Is.Not.Empty, "the refusal is counted");
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

    private async Task<string> ReadinessAsync()
    {
        using var ready = await _gateway.Client.GetAsync("/healthz/ready");
        return await ready.Content.ReadAsStringAsync();
    }

    private async Task<string?> ServiceNameAsync()
    {
        using var response = await _gateway.Client.GetAsync("/no-such-route");
        return System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("service").GetString();
    }

    private void Truncate(string fileName)
    {
        var path = Path.Combine(_gateway.ConfigDirectory, fileName);
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.Length / 2)]);
    }

    [Test]
    public async Task ProxyFileThatDoesNotParse_IsRefusedNamingFileAndLine_AndRoutesSurviveTheNextEdit()
    {
        Truncate("reverseproxy.json");

        await GatewayHost.WaitUntilAsync(async () => (await ReadinessAsync()).Contains("Degraded", StringComparison.Ordinal), "readiness shows the refusal");
        var readiness = await ReadinessAsync();
        Assert.That(readiness, Does.Contain("reverseproxy.json").And.Match("line [0-9]+"), readiness);
        Assert.That(_gateway.Logs.Entries, Has.Some.Contains("Error").And.Contains("reverseproxy.json").And.Contains("refused"));
        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Body, Is.EqualTo("original"));

        // The next valid edit of another file must not load the broken one.
        _gateway.EditConfig(GatewayHost.OverridesFile, c => c["Gateway"]!["ServiceName"] = "Renamed Gateway");
        await GatewayHost.WaitUntilAsync(async () => await ServiceNameAsync() == "Renamed Gateway", "the valid edit applies");
        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Body, Is.EqualTo("original"), "every route still serves");
        Assert.That(await ReadinessAsync(), Does.Contain("reverseproxy.json"), "still refused until the file is fixed");
    }

    [Test]
    public async Task GatewayFileThatDoesNotParse_IsRefused_AndAProxyEditIsJudgedOnTheLastGoodSettings()
    {
        _vendors.Anthropic.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("anthropic"));
        Truncate("gateway.json");
        await GatewayHost.WaitUntilAsync(async () => (await ReadinessAsync()).Contains("gateway.json", StringComparison.Ordinal), "readiness names the file");

        _gateway.EditConfig("reverseproxy.json", c => c["ReverseProxy"]!["Clusters"]!["openai"]!["Destinations"]!["primary"]!["Address"] = _movedOpenAi.Url + "/");

        await GatewayHost.WaitUntilAsync(async () => (await CallAsync(VendorCase.OpenAi.GatewayPath)).Body == "moved", "the proxy edit applies");
        Assert.That(_gateway.Logs.Entries, Has.None.Contains("(known: )"), "providers are still known");
        Assert.That((await CallAsync("/api/ai/anthropic/v1/messages")).Body, Is.EqualTo("anthropic"), "other providers keep their keys and routes");
    }

    [Test]
    public async Task FileFixedAfterARefusal_IsAppliedAndTheRefusalCleared()
    {
        var path = Path.Combine(_gateway.ConfigDirectory, "reverseproxy.json");
        var good = GatewayHost.ReadJson(path);
        Truncate("reverseproxy.json");
        await GatewayHost.WaitUntilAsync(async () => (await ReadinessAsync()).Contains("reverseproxy.json", StringComparison.Ordinal), "the refusal shows");

        good["ReverseProxy"]!["Clusters"]!["openai"]!["Destinations"]!["primary"]!["Address"] = _movedOpenAi.Url + "/";
        GatewayHost.WriteJson(path, good);

        await GatewayHost.WaitUntilAsync(async () => (await CallAsync(VendorCase.OpenAi.GatewayPath)).Body == "moved", "the fixed file applies");
        await GatewayHost.WaitUntilAsync(async () => (await ReadinessAsync()).Contains("Healthy", StringComparison.Ordinal) && !(await ReadinessAsync()).Contains("Degraded", StringComparison.Ordinal), "readiness is healthy again");
    }

    [TestCase("{}")]
    [TestCase("{\"ReverseProxy\": {\"Routes\": {}, \"Clusters\": {}}}")]
    public async Task ChangeThatLeavesNoRoute_IsRefused_AndRoutesKeepServing(string content)
    {
        File.WriteAllText(Path.Combine(_gateway.ConfigDirectory, "reverseproxy.json"), content);

        await GatewayHost.WaitUntilAsync(async () => (await ReadinessAsync()).Contains("Degraded", StringComparison.Ordinal), "the change is refused");
        Assert.That(await ReadinessAsync(), Does.Contain("no route").And.Contain("AllowNoRoutes"));
        Assert.That(_gateway.Logs.Entries, Has.Some.Contains("Error").And.Contains("no route"));
        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Body, Is.EqualTo("original"));
        using var ready = await _gateway.Client.GetAsync("/healthz/ready");
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task KubeletConfigMapSwap_UnderSteadyLoad_ChangesRouting_WithNoFailedRequest_AndNoRestart()
    {
        await _gateway.DisposeAsync();
        _gateway = await GatewayHost.StartAsync(_vendors.Addresses, kubeletLayout: true);
        var started = _gateway.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted;
        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Body, Is.EqualTo("original"));

        // Steady load from 4 callers while the ConfigMap changes under the gateway, with the machine loaded too ("no
        // request fails" is a claim about concurrency).
        using var burners = new CpuLoad();
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var bodies = new System.Collections.Concurrent.ConcurrentBag<string>();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, body) = await CallAsync(VendorCase.OpenAi.GatewayPath);
                bodies.Add(body);
                if (status != HttpStatusCode.OK)
                {
                    lock (failures)
                    {
                        failures.Add($"{(int)status}: {body}");
                    }
                }
            }
        })).ToList();

        KubeletFolder.Update(_gateway.ConfigDirectory, version =>
        {
            var path = Path.Combine(version, "reverseproxy.json");
            var proxy = GatewayHost.ReadJson(path);
            proxy["ReverseProxy"]!["Clusters"]!["openai"]!["Destinations"]!["primary"]!["Address"] = _movedOpenAi.Url + "/";
            File.WriteAllText(path, proxy.ToJsonString());
        });

        await GatewayHost.WaitUntilAsync(() => Task.FromResult(bodies.Contains("moved")), "the swapped ConfigMap reroutes openai");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.That(failures, Is.Empty);
        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Body, Is.EqualTo("moved"));
        Assert.That(_gateway.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted, Is.EqualTo(started), "the same app, not restarted");
        Assert.That(await ReadinessAsync(), Does.Not.Contain("refused"));
    }

    [Test]
    public async Task RouteWhoseClusterIsMissing_IsRefused_AndRoutesKeepServing()
    {
        var path = Path.Combine(_gateway.ConfigDirectory, "reverseproxy.json");
        var json = GatewayHost.ReadJson(path);
        json["ReverseProxy"]!["Routes"]!["orphan"] = JsonNode.Parse("""{"ClusterId": "nowhere", "Match": {"Path": "/api/ai/orphan/{**rest}"}}""");
        GatewayHost.WriteJson(path, json);

        await GatewayHost.WaitUntilAsync(async () => (await ReadinessAsync()).Contains("orphan", StringComparison.Ordinal), "the change is refused");
        Assert.That(await ReadinessAsync(), Does.Contain("orphan names cluster").And.Contain("nowhere"));
        Assert.That((await CallAsync(VendorCase.OpenAi.GatewayPath)).Body, Is.EqualTo("original"));
    }

    [Test]
    public async Task ChangeThatLeavesNoRoute_IsApplied_WhenExplicitlyAllowed()
    {
        _gateway.EditConfig(GatewayHost.OverridesFile, c =>
        {
            c["Gateway"]!["Forwarding"] = new JsonObject { ["AllowNoRoutes"] = true };
            c["Gateway"]!["ServiceName"] = "Routes May Go";
        });
        await GatewayHost.WaitUntilAsync(async () => await ServiceNameAsync() == "Routes May Go", "the setting applies");
        File.WriteAllText(Path.Combine(_gateway.ConfigDirectory, "reverseproxy.json"), "{}");

        await GatewayHost.WaitUntilAsync(async () => (await CallAsync(VendorCase.OpenAi.GatewayPath)).Status == HttpStatusCode.NotFound, "every route is gone, as asked");
    }
}
