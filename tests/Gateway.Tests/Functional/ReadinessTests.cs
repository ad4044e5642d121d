using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Functional;

/// <summary>
/// Readiness as Kubernetes needs it: a pod whose keys for some providers are missing still serves the others, so it is
/// ready (Degraded, naming what is missing); it is out of service only when no provider can serve — or, with
/// <c>Gateway:Secrets:StrictReadiness</c>, until every secret is resolved.
/// </summary>
public sealed class ReadinessTests
{
    private static readonly string Missing = "GATEWAY_TEST_UNSET_" + Guid.NewGuid().ToString("N");

    private static Task<GatewayHost> StartAsync(bool openAiKey, bool strict)
        => GatewayHost.StartAsync(new Dictionary<string, string>(), editOverrides: o =>
        {
            var gateway = o["Gateway"]!;
            if (!openAiKey)
            {
                gateway["Providers"]!["openai"]!["ApiKey"] = $"env:{Missing}_OPENAI";
            }

            gateway["Providers"]!["anthropic"]!["ApiKey"] = $"env:{Missing}_ANTHROPIC";
            gateway["Providers"]!["cohere"]!["ApiKey"] = $"env:{Missing}_COHERE";
            gateway["Secrets"] = new JsonObject { ["StrictReadiness"] = strict };
        });

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadinessAsync(GatewayHost gateway)
    {
        using var response = await gateway.Client.GetAsync("/healthz/ready");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Test]
    public async Task TwoProvidersKeysMissing_OnePresent_IsReady_AndDegradedNamingTheMissingOnes()
    {
        await using var gateway = await StartAsync(openAiKey: true, strict: false);

        var (status, body) = await ReadinessAsync(gateway);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        var secrets = body.GetProperty("checks").GetProperty("secrets").GetProperty("description").GetString();
        Assert.That(secrets, Does.Contain("Serving openai;").And.Contain("without a key yet: anthropic, cohere"));
        Assert.That(secrets, Does.Contain($"env:{Missing}_ANTHROPIC").And.Contain($"env:{Missing}_COHERE"));
    }

    [Test]
    public async Task TwoProvidersKeysMissing_WithStrictReadiness_Is503()
    {
        await using var gateway = await StartAsync(openAiKey: true, strict: true);

        var (status, body) = await ReadinessAsync(gateway);

        Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(body.GetProperty("checks").GetProperty("secrets").GetProperty("description").GetString(), Does.Contain("StrictReadiness"));
    }

    [Test]
    public async Task NoProviderHasAKey_Is503()
    {
        await using var gateway = await StartAsync(openAiKey: false, strict: false);

        var (status, body) = await ReadinessAsync(gateway);

        Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(body.GetProperty("checks").GetProperty("secrets").GetProperty("description").GetString(), Does.Contain("No provider has a key"));
    }
}
