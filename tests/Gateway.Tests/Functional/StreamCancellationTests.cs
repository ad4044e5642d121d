using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>A caller that disconnects mid-stream cancels the vendor call.</summary>
public sealed class StreamCancellationTests
{
    [Test]
    public async Task CallerDisconnectsMidStream_VendorCallIsCancelled()
    {
        using var vendors = new FakeVendors();
        var callerLeft = new SemaphoreSlim(0);
        vendors.AnthropicStreamThatStalls(4, callerLeft, TimeSpan.FromSeconds(3));

        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses);
        var request = new JsonObject { ["prompt"] = "Hi", ["model"] = "anthropic/claude-sonnet-5-5", ["stream"] = true };
        var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/ai/generate", gateway.ClientKeys["team-a"], request.ToJsonString()),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var reader = new InternalEvents(await response.Content.ReadAsStreamAsync());
        Assert.That((await reader.NextAsync())?.Name, Is.EqualTo("delta"));

        response.Dispose(); // the caller goes away mid-stream
        callerLeft.Release();

        await GatewayHost.WaitUntilAsync(() => Task.FromResult(gateway.Logs.Contains("Caller disconnected; the call to anthropic was cancelled")),
            "the gateway cancels the vendor call", TimeSpan.FromSeconds(10));
        Assert.That(gateway.Logs.Entries, Has.None.Contains("Unhandled"));
    }
}
