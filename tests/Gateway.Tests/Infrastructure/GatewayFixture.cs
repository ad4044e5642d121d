using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// One gateway and one set of fake vendors for all the tests of a class. A derived class changes the gateway's
/// configuration by overriding <see cref="EditProxy"/> or <see cref="EditOverrides"/>, and adds its own
/// <c>[OneTimeSetUp]</c> for anything else (it runs after this one).
/// </summary>
public abstract class GatewayFixture
{
    protected FakeVendors Vendors { get; private set; } = null!;

    protected GatewayHost Gateway { get; private set; } = null!;

    /// <summary>Changes config/reverseproxy.json before the gateway starts.</summary>
    protected virtual void EditProxy(JsonObject proxy)
    {
    }

    /// <summary>Changes the test overrides file (Gateway, Logging, ConnectionStrings…) before the gateway starts.</summary>
    protected virtual void EditOverrides(JsonObject overrides)
    {
    }

    [OneTimeSetUp]
    public async Task StartGatewayAsync()
    {
        Vendors = new FakeVendors();
        Gateway = await GatewayHost.StartAsync(Vendors.Addresses, EditProxy, EditOverrides);
    }

    [OneTimeTearDown]
    public async Task StopGatewayAsync()
    {
        await Gateway.DisposeAsync();
        Vendors.Dispose();
    }
}
