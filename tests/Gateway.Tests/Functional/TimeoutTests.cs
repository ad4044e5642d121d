using System.Net;
using System.Text.Json.Nodes;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Yarp.ReverseProxy;

namespace Gateway.Tests.Functional;

/// <summary>Per-cluster timeouts suited to LLM calls: a vendor slower than its cluster's timeout is a 504 vendor_timeout problem.</summary>
public sealed class TimeoutTests : GatewayFixture
{
    private static readonly TimeSpan ClusterTimeout = TimeSpan.FromSeconds(3);

    // Released when each test ends: until then a "slow" vendor says nothing, however long the gateway waits.
    private TaskCompletionSource _vendorReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [SetUp]
    public void HoldTheVendor() => _vendorReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [TearDown]
    public void ReleaseTheVendor() => _vendorReleased.TrySetResult();

    protected override void EditProxy(JsonObject proxy)
    {
        var clusters = proxy["ReverseProxy"]!["Clusters"]!;
        clusters["openai"]!["HttpRequest"] = new JsonObject { ["ActivityTimeout"] = ClusterTimeout.ToString("c") };
        clusters["cohere"]!.AsObject().Remove("HttpRequest");
    }

    [OneTimeSetUp]
    public async Task WarmUpAsync()
    {
        // The first call through a fresh gateway and WireMock pays for JIT and connection set-up; keep that out of
        // the timing margins below.
        VendorAnswersAfter(TimeSpan.FromMilliseconds(1));
        using var warmUp = await CallAsync();
        Assert.That(warmUp.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    private void VendorAnswersAfter(TimeSpan delay)
    {
        Vendors.OpenAi.Reset();
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithDelay(delay).WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
    }

    // The vendor accepts the call and answers nothing until the test has ended.
    private void VendorNeverAnswersInTime()
    {
        var released = _vendorReleased;
        Vendors.OpenAi.Reset();
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream")
                .WithSseBody(async (_, queue) =>
                {
                    await released.Task;
                    queue.Close();
                }));
    }

    private Task<HttpResponseMessage> CallAsync()
        => Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));

    [Test]
    public async Task VendorSlowerThanClusterTimeout_Is504VendorTimeout()
    {
        VendorNeverAnswersInTime();
        using var response = await CallAsync();
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout, "vendor_timeout", "POST " + VendorCase.OpenAi.GatewayPath);
    }

    [Test]
    public async Task VendorJustUnderClusterTimeout_Succeeds()
    {
        VendorAnswersAfter(ClusterTimeout - TimeSpan.FromSeconds(1));
        using var response = await CallAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("chat.completion"));
    }

    [Test]
    public async Task NormalizedRoute_VendorSlowerThanClusterTimeout_Is504VendorTimeout()
    {
        VendorNeverAnswersInTime();
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"], "{\"prompt\":\"Hi\"}"));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout, "vendor_timeout", "POST /v1/ai/generate");
    }

    [Test]
    public async Task NormalizedStream_VendorSilentMidStreamLongerThanTimeout_EndsWithVendorTimeoutEvent()
    {
        Vendors.OpenAi.Reset();
        var events = VendorCase.OpenAi.StreamEvents();
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream")
                .WithSseBody(async (_, queue) =>
                {
                    queue.Write(events[0]);
                    queue.Write(events[1]);
                    await _vendorReleased.Task;
                    queue.Close();
                }));

        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"], "{\"prompt\":\"Hi\",\"stream\":true}"));
        var received = await new InternalEvents(await response.Content.ReadAsStreamAsync()).ReadToEndAsync();

        Assert.That(received.Select(e => e.Name), Is.EqualTo(new[] { "delta", "error" }));
        Assert.That(received[1].Data.GetProperty("code").GetString(), Is.EqualTo("vendor_timeout"));
    }

    [Test]
    public void ClusterWithoutTimeout_GetsTheGatewayDefaultOfAtLeastTenMinutes()
    {
        var proxy = Gateway.Services.GetRequiredService<IProxyStateLookup>();
        Assert.That(proxy.TryGetCluster("cohere", out var cohere), Is.True);
        Assert.That(cohere!.Model.Config.HttpRequest!.ActivityTimeout, Is.EqualTo(TimeSpan.FromMinutes(10)));
        Assert.That(proxy.TryGetCluster("openai", out var openai), Is.True);
        Assert.That(openai!.Model.Config.HttpRequest!.ActivityTimeout, Is.EqualTo(ClusterTimeout), "a cluster's own setting wins");
    }

    [Test]
    public void ShippedConfig_GivesEveryClusterAtLeastTenMinutes()
    {
        var shipped = GatewayHost.ReadJson(Path.Combine(RepoPaths.Config, "reverseproxy.json"));
        var clusters = shipped["ReverseProxy"]!["Clusters"]!.AsObject();
        Assert.That(clusters.Select(c => c.Key), Is.EquivalentTo(new[] { "openai", "anthropic", "cohere" }));
        foreach (var (name, cluster) in clusters)
        {
            var timeout = cluster!["HttpRequest"]?["ActivityTimeout"]?.GetValue<string>();
            Assert.That(timeout is null || TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture) >= TimeSpan.FromMinutes(10), Is.True, name);
            Assert.That(cluster["Destinations"]!.AsObject().Select(d => d.Key), Is.EqualTo(new[] { "primary" }), name);
        }

        var defaults = new Gateway.Routing.ForwardingOptions();
        Assert.That(defaults.DefaultActivityTimeout, Is.GreaterThanOrEqualTo(TimeSpan.FromMinutes(10)));
    }
}
