using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Routing;

/// <summary>
/// Provider switching with Microsoft.FeatureManagement flags in the config files: a targeting rollout moves that share
/// of a client's callers to another provider, always the same callers, and editing the flag moves traffic without a
/// restart; a provider's kill switch keeps every call away from it.
/// </summary>
[NonParallelizable]
public sealed class ProviderSwitchTests
{
    private const string Flag = "default-to-anthropic";

    private FakeVendors _vendors = null!;
    private GatewayHost _gateway = null!;

    private static JsonNode Rollout(int percent) => JsonNode.Parse("""
        {"EnabledFor": [{"Name": "Microsoft.Targeting", "Parameters": {"Audience": {"Groups": [{"Name": "team-a", "RolloutPercentage": PERCENT }], "DefaultRolloutPercentage": 0}}}]}
        """.Replace("PERCENT", percent.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))!;

    [SetUp]
    public async Task StartAsync()
    {
        _vendors = new FakeVendors();
        _vendors.AnswerEveryChatCall();

        _gateway = await GatewayHost.StartAsync(_vendors.Addresses, editOverrides: o =>
        {
            var gateway = o["Gateway"]!;
            gateway["Models"] = JsonNode.Parse($$$"""
                {"default": {"Provider": "openai", "Model": "gpt-6-luna", "Switches": [{"Flag": "{{{Flag}}}", "To": "anthropic/claude-haiku-5-5"}]}}
                """);
            gateway["Providers"]!["cohere"]!["OffFlag"] = "cohere-off";
            o["FeatureManagement"] = new JsonObject { [Flag] = Rollout(0), ["cohere-off"] = false };
        });
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        _vendors.Dispose();
    }

    private async Task<string> ProviderForAsync(string user, string client = "team-a")
    {
        using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/ai/generate", _gateway.ClientKeys[client],
            $$"""{"prompt":"Hi","user":"{{user}}"}"""));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        return body.GetProperty("provider").GetString()!;
    }

    // 1000 callers of team-a (one user each), 8 at a time: the provider each landed on.
    private async Task<IReadOnlyDictionary<string, string>> ThousandCallersAsync()
    {
        var landed = new ConcurrentDictionary<string, string>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < 1000)
            {
                landed[$"u{i}"] = await ProviderForAsync($"u{i}");
            }
        })));
        return landed;
    }

    private void SetRollout(int percent) => _gateway.EditConfig(GatewayHost.OverridesFile, o => o["FeatureManagement"]![Flag] = Rollout(percent));

    [Test]
    public async Task Rollout_At0_100And10Percent_SendsThatShare_TheSameCallersEveryTime_AndMovesWithTheFileWithoutRestart()
    {
        var none = await ThousandCallersAsync();
        Assert.That(none.Values, Has.All.EqualTo("openai"), "0 %");

        SetRollout(100);
        await GatewayHost.WaitUntilAsync(async () => await ProviderForAsync("probe") == "anthropic", "the edited flag is read");
        var all = await ThousandCallersAsync();
        Assert.That(all.Values, Has.All.EqualTo("anthropic"), "100 %");

        SetRollout(10);
        await GatewayHost.WaitUntilAsync(async () => (await Task.WhenAll(Enumerable.Range(0, 20).Select(i => ProviderForAsync($"u{i}")))).Contains("openai"),
            "the edited flag is read");
        var tenth = await ThousandCallersAsync();
        var share = tenth.Values.Count(p => p == "anthropic") / 1000.0;
        Assert.That(share, Is.InRange(0.07, 0.13), "10 % ± 3 %");

        var again = await ThousandCallersAsync();
        Assert.That(again, Is.EquivalentTo(tenth), "each caller lands where it landed before");

        // Another client is outside the targeted group: the rollout is team-a's.
        _gateway.EditConfig(GatewayHost.OverridesFile, o => o["FeatureManagement"]![Flag] = Rollout(100));
        await GatewayHost.WaitUntilAsync(async () => await ProviderForAsync("probe") == "anthropic", "the edited flag is read");
        Assert.That(await ProviderForAsync("probe", client: "team-b"), Is.EqualTo("openai"));
    }

    [Test]
    public async Task KillSwitch_On_KeepsEveryCallAwayFromTheProvider_OffAgain_CallsReturn()
    {
        _gateway.EditConfig(GatewayHost.OverridesFile, o => o["FeatureManagement"]!["cohere-off"] = true);
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/ai/generate", _gateway.ClientKeys["team-a"],
                """{"prompt":"Hi","model":"cohere/command-r-08-2024"}"""));
            return response.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, "the kill switch is read");

        var before = _vendors.Cohere.LogEntries.Count();
        using var passthrough = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, VendorCase.Cohere.GatewayPath, _gateway.ClientKeys["team-a"], VendorCase.Cohere.RequestBody));
        var problem = await ProblemAssert.IsProblemAsync(passthrough, HttpStatusCode.ServiceUnavailable, "vendor_unavailable", "POST " + VendorCase.Cohere.GatewayPath);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("switched off"));
        Assert.That(_vendors.Cohere.LogEntries.Count(), Is.EqualTo(before), "cohere is not called");

        _gateway.EditConfig(GatewayHost.OverridesFile, o => o["FeatureManagement"]!["cohere-off"] = false);
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, VendorCase.Cohere.GatewayPath, _gateway.ClientKeys["team-a"], VendorCase.Cohere.RequestBody));
            return response.StatusCode == HttpStatusCode.OK;
        }, "the kill switch is off again");
    }
}
