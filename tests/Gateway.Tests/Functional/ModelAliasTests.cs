using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>The platform team moves traffic between vendors by editing an alias in config, without a restart.</summary>
public sealed class ModelAliasTests
{
    [Test]
    public async Task ChangingTheDefaultAlias_MovesTrafficToAnotherVendor_WithoutRestart()
    {
        using var vendors = new FakeVendors();
        foreach (var vendor in VendorCase.All)
        {
            vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
        }

        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses);
        async Task<string?> ProviderAsync()
        {
            using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/api/ai/summarize", gateway.ClientKeys["team-a"],
                """{"prompt": "Summarize the following email.", "context": "Please review the attached invoice and confirm delivery times for Q3."}"""));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("provider").GetString();
        }

        Assert.That(await ProviderAsync(), Is.EqualTo("openai"));

        gateway.EditConfig(GatewayHost.OverridesFile, c =>
            c["Gateway"]!["Models"] = new JsonObject { ["default"] = new JsonObject { ["Provider"] = "anthropic", ["Model"] = "claude-haiku-5-5" } });

        await GatewayHost.WaitUntilAsync(async () => await ProviderAsync() == "anthropic", "the default alias serves from anthropic");
        var sent = JsonDocument.Parse(vendors.Anthropic.LogEntries.Last().RequestMessage!.Body!).RootElement;
        Assert.That(sent.GetProperty("model").GetString(), Is.EqualTo("claude-haiku-5-5"));

        gateway.EditConfig(GatewayHost.OverridesFile, c =>
            c["Gateway"]!["Models"] = new JsonObject { ["default"] = new JsonObject { ["Provider"] = "cohere", ["Model"] = "command-r-08-2024" } });
        await GatewayHost.WaitUntilAsync(async () => await ProviderAsync() == "cohere", "the default alias serves from cohere");
    }

    [Test]
    public async Task InvalidAliasChange_IsRefused_AndTheOldAliasKeepsServing()
    {
        using var vendors = new FakeVendors();
        vendors.OpenAi.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses);

        gateway.EditConfig(GatewayHost.OverridesFile, c =>
            c["Gateway"]!["Models"] = new JsonObject { ["default"] = new JsonObject { ["Provider"] = "mistral", ["Model"] = "mistral-large" } });
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(gateway.Logs.Contains("Gateway:Models:default:Provider 'mistral'")), "the change is refused");

        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/ai/generate", gateway.ClientKeys["team-a"], """{"prompt":"Hi"}"""));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("provider").GetString(), Is.EqualTo("openai"));
    }

    [Test]
    public async Task ShippedAliases_SendTheirVendorFields_AndLeaveOutATemperatureTheirModelRefuses()
    {
        using var vendors = new FakeVendors();
        foreach (var vendor in VendorCase.All)
        {
            vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
        }

        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses);
        foreach (var alias in new[] { "default", "smart" })
        {
            using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/ai/generate", gateway.ClientKeys["team-a"],
                $$"""{"prompt":"Hi","temperature":0.2,"model":"{{alias}}"}"""));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        }

        var openai = JsonDocument.Parse(vendors.OpenAi.LogEntries.Single().RequestMessage!.Body!).RootElement;
        var anthropic = JsonDocument.Parse(vendors.Anthropic.LogEntries.Single().RequestMessage!.Body!).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(openai.GetProperty("model").GetString(), Is.EqualTo("gpt-6-luna"));
            Assert.That(openai.GetProperty("reasoning_effort").GetString(), Is.EqualTo("none"), "no reasoning tokens eat max_completion_tokens, and temperature applies");
            Assert.That(openai.GetProperty("temperature").GetDouble(), Is.EqualTo(0.2));
            Assert.That(anthropic.GetProperty("model").GetString(), Is.EqualTo("claude-sonnet-5-5"));
            Assert.That(anthropic.TryGetProperty("temperature", out _), Is.False, "the model answers 400 to any non-default sampling parameter");
        });
    }
}
