using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Functional;

/// <summary>
/// Passive health checks, as YARP has them: a cluster that enables them has every call's outcome recorded by its policy
/// — from the start, and from the moment a configuration change enables them — and a cluster that does not has none.
/// (The gateway runs YARP's step only while some cluster enables them.)
/// </summary>
public sealed class PassiveHealthCheckTests
{
    [Test]
    public async Task ACallOnAClusterWithPassiveHealthChecks_IsRecordedByItsPolicy()
    {
        using var vendors = new FakeVendors();
        vendors.AnswerEveryChatCall();
        var policy = new CountingPolicy();
        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses, editProxy: proxy => EnablePassive(proxy, "openai"),
            configure: builder => builder.Services.AddSingleton<IPassiveHealthCheckPolicy>(policy));

        await CallAsync(gateway, VendorCase.OpenAi);
        await CallAsync(gateway, VendorCase.Anthropic);
        Assert.That(policy.Recorded, Is.EqualTo(new[] { "openai" }), "the openai cluster's call, not anthropic's");
    }

    [Test]
    public async Task PassiveHealthChecksEnabledByAConfigurationChange_RecordTheCallsAfterIt()
    {
        using var vendors = new FakeVendors();
        vendors.AnswerEveryChatCall();
        var policy = new CountingPolicy();
        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses,
            configure: builder => builder.Services.AddSingleton<IPassiveHealthCheckPolicy>(policy));
        await CallAsync(gateway, VendorCase.OpenAi);
        Assert.That(policy.Recorded, Is.Empty, "no cluster enables them");

        var file = Path.Combine(gateway.ConfigDirectory, "reverseproxy.json");
        var proxy = GatewayHost.ReadJson(file);
        EnablePassive(proxy, "openai");
        GatewayHost.WriteJson(file, proxy);
        await GatewayHost.WaitUntilAsync(async () =>
        {
            await CallAsync(gateway, VendorCase.OpenAi);
            return policy.Recorded.Count > 0;
        }, "a call is recorded once the change is applied");
        Assert.That(policy.Recorded, Has.All.EqualTo("openai"));
    }

    private static void EnablePassive(JsonObject proxy, string cluster)
        => proxy["ReverseProxy"]!["Clusters"]![cluster]!["HealthCheck"] = new JsonObject
        {
            ["Passive"] = new JsonObject { ["Enabled"] = true, ["Policy"] = CountingPolicy.PolicyName },
        };

    private static async Task CallAsync(GatewayHost gateway, VendorCase vendor)
    {
        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, vendor.GatewayPath, gateway.ClientKeys["team-a"], vendor.RequestBody));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    private sealed class CountingPolicy : IPassiveHealthCheckPolicy
    {
        public const string PolicyName = "Counting";

        private readonly List<string> _recorded = [];

        public string Name => PolicyName;

        public IReadOnlyList<string> Recorded
        {
            get
            {
                lock (_recorded)
                {
                    return [.. _recorded];
                }
            }
        }

        public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
        {
            lock (_recorded)
            {
                _recorded.Add(cluster.ClusterId);
            }
        }
    }
}
