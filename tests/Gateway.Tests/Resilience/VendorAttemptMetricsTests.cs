using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Resilience;

/// <summary>
/// gateway.vendor.attempt.duration: one measurement per vendor attempt, by provider, the vendor's status and the
/// forwarding error, timed on the gateway's clock from sending to the vendor's status and headers.
/// </summary>
public sealed class VendorAttemptMetricsTests
{
    private const string Instrument = "gateway.vendor.attempt.duration";

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    private static HttpRequestMessage Chat(GatewayHost gateway, bool stream = false)
        => gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"],
            stream ? VendorCase.OpenAi.RequestBody.Replace("{", "{\"stream\":true,", StringComparison.Ordinal) : VendorCase.OpenAi.RequestBody);

    // A chat call, with the fake clock moved on in small steps until it is answered (backoffs pass).
    private async Task<HttpResponseMessage> CallOnTheFakeClockAsync(GatewayHost gateway)
    {
        var call = gateway.Client.SendAsync(Chat(gateway));
        while (!call.IsCompleted)
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(5);
        }

        return await call;
    }

    private static IReadOnlyList<GenAiMeasurements.Measurement> Attempts(GenAiMeasurements measurements)
        => [.. measurements.All.Where(m => m.Instrument == Instrument)];

    [Test]
    public async Task ServerErrorThenSuccess_IsTwoAttempts_WithTheVendorsStatuses()
    {
        using var vendors = new FakeVendors();
        var given = vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost()).InScenario("answers");
        given.WillSetStateTo("second").RespondWith(Response.Create().WithStatusCode(500).WithHeader("Content-Type", "application/json")
            .WithBody(VendorCase.OpenAi.ReadFixture("openai/golden/error-500.json")));
        vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost()).InScenario("answers").WhenStateIs("second")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses, configure: b => b.Services.AddSingleton<TimeProvider>(_time));
        using var measurements = new GenAiMeasurements("Gateway.Resilience");

        // The backoff before the second attempt passes on the fake clock.
        using var response = await CallOnTheFakeClockAsync(gateway);
        var attempts = Attempts(measurements);
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(attempts.Select(a => a.Tags["http.response.status_code"]), Is.EqualTo(new object[] { 500, 200 }));
            Assert.That(attempts.Select(a => a.Tag("gen_ai.provider.name")), Is.All.EqualTo("openai"));
            Assert.That(attempts.Select(a => a.Tags.ContainsKey("error.type")), Is.All.False);
        });
    }

    [Test]
    public async Task Stream_IsTimedToItsHeaders_NotToItsEnd()
    {
        await using var vendor = await HeldStreamVendor.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["openai"] = vendor.Address },
            configure: b => b.Services.AddSingleton<TimeProvider>(_time));
        using var measurements = new GenAiMeasurements("Gateway.Resilience");

        using var response = await gateway.Client.SendAsync(Chat(gateway, stream: true), HttpCompletionOption.ResponseHeadersRead);
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(vendor.Streaming == 1), "the vendor holds the stream after its first events");
        // Seven seconds of gateway time while the stream is open, after its headers came.
        _time.Advance(TimeSpan.FromSeconds(7));
        vendor.Release();
        var body = await response.Content.ReadAsStringAsync();
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(Attempts(measurements).Count == 1), "the attempt is measured");

        var attempt = Attempts(measurements).Single();
        Assert.Multiple(() =>
        {
            Assert.That(body, Does.Contain("[DONE]"));
            Assert.That(attempt.Tags["http.response.status_code"], Is.EqualTo(200));
            Assert.That(attempt.Value, Is.LessThan(7), "measured to the status and headers");
        });
    }

    [Test]
    public async Task UnreachableVendor_IsMeasured_WithTheForwardingError_AndNoStatus()
    {
        // A port nothing listens on: every connection is refused.
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["openai"] = $"http://127.0.0.1:{ServerPorts.Next()}/" },
            configure: b => b.Services.AddSingleton<TimeProvider>(_time));
        using var measurements = new GenAiMeasurements("Gateway.Resilience");

        using var response = await CallOnTheFakeClockAsync(gateway);
        var attempts = Attempts(measurements);
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway));
            Assert.That(attempts, Has.Count.EqualTo(int.Parse(response.Headers.GetValues("x-gateway-attempts").Single(), System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(attempts.Select(a => a.Tag("error.type")), Is.All.EqualTo("Request"));
            Assert.That(attempts.Select(a => a.Tags.ContainsKey("http.response.status_code")), Is.All.False);
        });
    }
}
