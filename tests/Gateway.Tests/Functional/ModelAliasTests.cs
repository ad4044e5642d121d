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
            c["Gateway"]!["Models"] = new JsonObject { ["default"] = new JsonObject { ["Provider"] = "anthropic", ["Model"] = "claude-haiku-4-5" } });

        await GatewayHost.WaitUntilAsync(async () => await ProviderAsync() == "anthropic", "the default alias serves from anthropic");
        var sent = JsonDocument.Parse(vendors.Anthropic.LogEntries.Last().RequestMessage!.Body!).RootElement;
        Assert.That(sent.GetProperty("model").GetString(), Is.EqualTo("claude-haiku-4-5"));

        gateway.EditConfig(GatewayHost.OverridesFile, c =>
            c["Gateway"]!["Models"] = new JsonObject { ["default"] = new JsonObject { ["Provider"] = "cohere", ["Model"] = "command-a-03-2025" } });
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
}
