using System.Diagnostics.Metrics;
using System.Net;
using Gateway.Resilience;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Gateway.Tests.Resilience;

/// <summary>Vendor connections are counted as they open and close, not on each call.</summary>
public sealed class VendorConnectionsTests
{
    private ServiceProvider _services = null!;

    // The provider owns it (and the meter).
    private VendorConnections Connections => _services.GetRequiredService<VendorConnections>();

    [SetUp]
    public void SetUp() => _services = new ServiceCollection().AddMetrics().AddSingleton<VendorConnections>().BuildServiceProvider();

    [TearDown]
    public void TearDown() => _services.Dispose();

    [Test]
    public async Task Connections_AreCountedWhileOpen_AndNoLongerOnceClosed()
    {
        using var vendor = WireMockServer.Start();
        vendor.Given(Request.Create().UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("ok"));
        var port = new Uri(vendor.Url!).Port;
        var handler = new SocketsHttpHandler { ConnectCallback = Connections.ConnectAsync };
        using (var client = new HttpClient(handler))
        {
            // Two calls at once need two connections; a third after them reuses one.
            var first = client.GetAsync(vendor.Url + "/a");
            var second = client.GetAsync(vendor.Url + "/b");
            foreach (var answer in await Task.WhenAll(first, second))
            {
                Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                answer.Dispose();
            }

            var open = Connections.Open("127.0.0.1", port) + Connections.Open("localhost", port);
            Assert.That(open, Is.InRange(1, 2), "each connection made is counted");
            using (var third = await client.GetAsync(vendor.Url + "/c"))
            {
                Assert.That(third.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            Assert.That(Connections.Open("127.0.0.1", port) + Connections.Open("localhost", port), Is.EqualTo(open), "a call on a pooled connection counts nothing");
            Assert.That(Observed(port), Is.EqualTo(open), "the instrument reports the open connections by address and port");
        }

        Assert.That(Connections.Open("127.0.0.1", port) + Connections.Open("localhost", port), Is.Zero, "closing the pool closes its connections");
        Assert.That(Observed(port), Is.Zero);
    }

    [Test]
    public async Task Connect_Refused_CountsNothing()
    {
        // A port nothing listens on.
        var port = ServerPorts.Next();
        using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = Connections.ConnectAsync });
        await Assert.ThatAsync(() => client.GetAsync($"http://127.0.0.1:{port}/"), Throws.InstanceOf<HttpRequestException>());
        Assert.That(Connections.Open("127.0.0.1", port), Is.Zero);
    }

    // What gateway.vendor.connections reports now for the port (any address).
    private long Observed(int port)
    {
        long total = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == VendorConnections.InstrumentName && instrument.Meter.Name == ResilienceMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "server.port" && tag.Value is int observed && observed == port)
                {
                    total += value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return total;
    }
}
