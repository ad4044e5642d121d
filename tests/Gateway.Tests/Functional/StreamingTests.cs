using System.Net;
using System.Text;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// SSE passes through chunk by chunk. The fake vendor sends one event, then waits until the caller has received it
/// before sending the next: a gateway that buffered anything would leave the vendor waiting and fail the test.
/// </summary>
public sealed class StreamingTests : GatewayFixture
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(10);

    private static IEnumerable<VendorCase> AllVendors => VendorCase.All;

    [TestCaseSource(nameof(AllVendors))]
    public async Task Stream_EachEventReachesCallerBeforeVendorSendsTheNext(VendorCase vendor)
    {
        var events = vendor.StreamEvents();
        var received = new SemaphoreSlim(0);
        var vendorLog = new List<string>();
        var fake = Vendors[vendor.Vendor];
        fake.Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200)
                .WithHeader("Content-Type", "text/event-stream; charset=utf-8")
                .WithHeader("Cache-Control", "no-cache")
                .WithSseBody(async (_, queue) =>
                {
                    foreach (var sseEvent in events)
                    {
                        queue.Write(sseEvent);
                        if (!await received.WaitAsync(StepTimeout))
                        {
                            lock (vendorLog)
                            {
                                vendorLog.Add("caller did not receive event before the vendor's next one: " + sseEvent.Trim());
                            }
                        }
                    }

                    queue.Close();
                }));

        using var request = Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody.Replace("{", "{\"stream\":true,", StringComparison.Ordinal));
        using var response = await Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/event-stream"));

        await using var body = await response.Content.ReadAsStreamAsync();
        var all = new StringBuilder();
        var buffer = new byte[16 * 1024];
        foreach (var expected in events)
        {
            var target = all.Length + expected.Length;
            using var step = new CancellationTokenSource(StepTimeout);
            while (all.Length < target)
            {
                var read = await body.ReadAsync(buffer, step.Token);
                Assert.That(read, Is.Positive, "stream ended early");
                all.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            Assert.That(all.ToString(all.Length - expected.Length, expected.Length), Is.EqualTo(expected), "events arrive whole and in order");
            received.Release();
        }

        Assert.That(await body.ReadAsync(buffer), Is.Zero, "nothing after the vendor's last event");
        Assert.That(vendorLog, Is.Empty);
        Assert.That(all.ToString(), Is.EqualTo(string.Concat(events)));
    }
}
