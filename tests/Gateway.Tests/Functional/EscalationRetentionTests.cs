using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gateway.Auth;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Functional;

/// <summary>Escalation blocks are kept for Gateway:Escalation:Retention (one hour by default), on the gateway's clock.</summary>
public sealed class EscalationRetentionTests
{
    [Test]
    public async Task ABlock_IsServedWithinTheRetention_AndGoneAfterIt()
    {
        using var vendors = new FakeVendors();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var adminKey = ClientKeyHasher.NewKey();
        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses,
            editOverrides: o => o["Gateway"]!["Admin"] = new JsonObject { ["KeySha256"] = ClientKeyHasher.HashHex(adminKey) },
            configure: b => b.Services.AddSingleton<TimeProvider>(time));
        using var refused = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, null, VendorCase.OpenAi.RequestBody));
        var requestId = refused.Headers.GetValues("x-request-id").Single();

        async Task<HttpStatusCode> ShowAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/requests/" + requestId);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            using var response = await gateway.Client.SendAsync(request);
            return response.StatusCode;
        }

        time.Advance(TimeSpan.FromMinutes(59));
        Assert.That(await ShowAsync(), Is.EqualTo(HttpStatusCode.OK), "kept for the hour");
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.That(await ShowAsync(), Is.EqualTo(HttpStatusCode.NotFound), "gone after it");
    }
}
