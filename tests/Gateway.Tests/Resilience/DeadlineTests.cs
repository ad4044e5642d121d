using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Resilience;

/// <summary>
/// The first-byte deadline over a call's attempts, on the gateway's (fake) clock: a vendor that holds every answer
/// gives the caller 504 vendor_timeout when the deadline passes — well before the cluster's own 10-minute silence
/// timeout — and the vendor sees its call cancelled.
/// </summary>
public sealed class DeadlineTests
{
    [TestCase("/api/ai/openai/v1/chat/completions", """{"model":"gpt-6-luna","messages":[{"role":"user","content":"Hi"}]}""")]
    [TestCase("/v1/ai/generate", """{"prompt":"Hi","model":"openai/gpt-6-luna"}""")]
    public async Task HungVendor_Is504VendorTimeout_AtTheDeadline_AndTheVendorCallIsCancelled(string path, string body)
    {
        await using var vendor = await GatedVendor.StartAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["openai"] = vendor.Address },
            editOverrides: o => o["Gateway"]!["Resilience"] = JsonNode.Parse("""{"Deadline": {"FirstByte": "00:00:05"}}"""),
            configure: b => b.Services.AddSingleton<TimeProvider>(time));

        var call = gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, path, gateway.ClientKeys["team-a"], body));
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(vendor.Received == 1), "the vendor holds the call");
        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.That(call.IsCompleted, Is.False, "before the deadline the call waits");

        time.Advance(TimeSpan.FromSeconds(0.2));
        using var response = await call;
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout, "vendor_timeout", "POST " + path);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Gateway:Resilience:Deadline:FirstByte"));
        Assert.That(response.Headers.GetValues("x-gateway-provider"), Is.EqualTo(new[] { "openai" }));
        Assert.That(response.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "1" }));
        await vendor.Aborted.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(vendor.Received, Is.EqualTo(1), "a cancelled call is not tried again");
    }

    // With the shipped deadline (10 min, the clusters' silence timeout too) a first attempt is bounded by that timeout,
    // so the deadline is armed only for a further attempt — with the time the call has left, backoff included.
    [Test]
    public async Task ShippedDeadline_StillBoundsARetry_WithTheTimeLeft()
    {
        await using var vendor = await GatedVendor.StartAsync(failFirst: 1);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["openai"] = vendor.Address },
            configure: b => b.Services.AddSingleton<TimeProvider>(time));

        var call = gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
        // The 503 is held for a retry; the backoff passes on the fake clock; the second attempt is held by the vendor.
        await GatewayHost.WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            return Task.FromResult(vendor.Received == 2);
        }, "the retry reaches the vendor");
        time.Advance(TimeSpan.FromMinutes(9.9));
        Assert.That(call.IsCompleted, Is.False, "before the deadline the retry waits");

        time.Advance(TimeSpan.FromMinutes(0.2));
        using var response = await call;
        // (Not ProblemAssert: the problem's timestamp is on the gateway's clock, 10 fake minutes ahead.)
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.GatewayTimeout));
        Assert.That(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["code"]!.GetValue<string>(), Is.EqualTo("vendor_timeout"));
        Assert.That(response.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "2" }));
        await vendor.Aborted.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
