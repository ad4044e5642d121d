using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>A caller that disconnects mid-stream cancels the vendor call: the vendor sees its connection closed.</summary>
public sealed class StreamCancellationTests
{
    [Test]
    public async Task CallerDisconnectsMidStream_VendorCallIsCancelled()
    {
        await using var vendor = await StallingVendor.StartAsync(events: 4);
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["anthropic"] = vendor.Address });
        var request = new JsonObject { ["prompt"] = "Hi", ["model"] = "anthropic/claude-sonnet-5-5", ["stream"] = true };
        var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/ai/generate", gateway.ClientKeys["team-a"], request.ToJsonString()),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var reader = new InternalEvents(await response.Content.ReadAsStreamAsync());
        Assert.That((await reader.NextAsync())?.Name, Is.EqualTo("delta"));

        response.Dispose(); // the caller goes away mid-stream

        await vendor.Aborted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(vendor.Received, Is.EqualTo(1));
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(gateway.Logs.Contains("Caller disconnected; the call to anthropic was cancelled")),
            "the gateway cancels the vendor call", TimeSpan.FromSeconds(10));
        Assert.That(gateway.Logs.Entries, Has.None.Contains("Unhandled"));
    }
}
