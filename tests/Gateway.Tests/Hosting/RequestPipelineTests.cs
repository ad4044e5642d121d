using System.Collections.Concurrent;
using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Hosting;

/// <summary>
/// What runs on every call besides the gateway's own steps. YARP registers ASP.NET Core's authorization services (for
/// routes' AuthorizationPolicy), and a WebApplication then runs the authorization middleware on every request — an
/// async frame and an HttpContext.Items dictionary per call for a check the gateway never uses (callers are
/// authenticated by client key). The gateway leaves it out, and refuses routes that would need it.
/// </summary>
public sealed class RequestPipelineTests
{
    private FakeVendors _vendors = null!;
    private GatewayHost _gateway = null!;
    private readonly ConcurrentQueue<(string Path, int Items)> _seen = new();

    [SetUp]
    public async Task StartAsync()
    {
        _vendors = new FakeVendors();
        _gateway = await GatewayHost.StartAsync(_vendors.Addresses, configure: b => b.Services.AddSingleton<IStartupFilter>(new Outermost(_seen)));
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        _vendors.Dispose();
    }

    [Test]
    public async Task APassthroughCall_LeavesTheRequestItemsEmpty()
    {
        _vendors.OpenAi.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));

        using var request = _gateway.Request(HttpMethod.Post, "/api/ai/openai/v1/chat/completions", _gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody);
        using var response = await _gateway.Client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var seen = _seen.Where(s => s.Path.StartsWith("/api/ai/", StringComparison.Ordinal)).ToList();
        Assert.That(seen, Has.Count.EqualTo(1), "the call went through the observed pipeline");
        Assert.That(seen[0].Items, Is.Zero, "no step of the pipeline keeps anything in HttpContext.Items (the authorization middleware would)");
    }

    // Around the whole application pipeline: what HttpContext.Items holds once every step has run.
    private sealed class Outermost(ConcurrentQueue<(string Path, int Items)> seen) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, inner) =>
            {
                await inner(context);
                seen.Enqueue((context.Request.Path.Value ?? "", context.Items.Count));
            });
            next(app);
        };
    }
}
