using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Resilience;

/// <summary>
/// Retries of throttled and failing vendor calls, on the gateway's (fake) clock: the vendor's own wait is a floor,
/// a wait above the cap goes straight to the caller, the last attempt's answer is the caller's, and nothing is tried
/// twice once the caller has any of it. Shipped defaults: 2 retries, 0.5 s base backoff, 30 s cap on a vendor's wait.
/// </summary>
public sealed class VendorRetryTests
{
    private const string ChatPath = "/v1/chat/completions";

    private static readonly string Success = VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture);
    private static readonly string Throttled = VendorCase.OpenAi.ReadFixture("openai/golden/error-429.json");
    private static readonly string Failed = VendorCase.OpenAi.ReadFixture("openai/golden/error-500.json");

    private FakeVendors _vendors = null!;
    private FakeTimeProvider _time = null!;
    private GatewayHost _gateway = null!;

    [SetUp]
    public async Task StartAsync()
    {
        _vendors = new FakeVendors();
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _gateway = await GatewayHost.StartAsync(_vendors.Addresses, configure: b => b.Services.AddSingleton<TimeProvider>(_time));
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        _vendors.Dispose();
    }

    private int VendorCalls => _vendors.OpenAi.LogEntries.Count(e => e.RequestMessage!.Path == ChatPath);

    private void VendorAnswers(params (int Status, string Body, string? RetryAfter)[] answers)
    {
        for (var i = 0; i < answers.Length; i++)
        {
            var (status, body, retryAfter) = answers[i];
            var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
            if (retryAfter is not null)
            {
                response = response.WithHeader("Retry-After", retryAfter);
            }

            var given = _vendors.OpenAi.Given(Request.Create().WithPath(ChatPath).UsingPost()).InScenario("answers");
            var staged = i == 0 ? given : given.WhenStateIs("answer-" + i);
            (i == answers.Length - 1 ? staged : staged.WillSetStateTo("answer-" + (i + 1))).RespondWith(response);
        }
    }

    private Task<HttpResponseMessage> PassthroughAsync()
        => _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, _gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));

    private Task<HttpResponseMessage> GenerateAsync()
        => _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/ai/generate", _gateway.ClientKeys["team-a"], """{"prompt":"Hi","model":"openai/gpt-6-luna"}"""));

    // Moves the fake clock on in small steps until disposed, so backoffs pass while a test polls the gateway.
    private ClockPump RunClock() => new(_time);

    private sealed class ClockPump : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _running;

        public ClockPump(FakeTimeProvider time) => _running = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                time.Advance(TimeSpan.FromMilliseconds(100));
                await Task.Yield();
            }
        });

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running;
            _stop.Dispose();
        }
    }

    // Moves the fake clock on in small steps until the vendor has seen `calls` calls; the fake time it took.
    private async Task<TimeSpan> AdvanceUntilVendorCallsAsync(int calls)
    {
        var start = _time.GetUtcNow();
        await GatewayHost.WaitUntilAsync(() =>
        {
            if (VendorCalls >= calls)
            {
                return Task.FromResult(true);
            }

            _time.Advance(TimeSpan.FromMilliseconds(50));
            return Task.FromResult(false);
        }, $"the vendor sees call {calls}");
        return _time.GetUtcNow() - start;
    }

    [Test]
    public async Task Throttled_WithRetryAfter2_IsTriedAgainNoSoonerThan2sOfGatewayTime_AndTheCallerGetsThe200()
    {
        VendorAnswers((429, Throttled, "2"), (200, Success, null));

        var call = PassthroughAsync();
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(_gateway.Logs.Contains("openai answered 429 to attempt 1; trying again")), "the 429 is held back");
        var waited = await AdvanceUntilVendorCallsAsync(2);
        using var response = await call;

        Assert.Multiple(() =>
        {
            Assert.That(waited, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(2)), "the vendor's Retry-After is a floor");
            Assert.That(waited, Is.LessThan(TimeSpan.FromSeconds(3)));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "2" }));
            Assert.That(response.Headers.Contains("Retry-After"), Is.False, "the held 429's headers are gone");
            Assert.That(VendorCalls, Is.EqualTo(2));
        });
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(Success));
    }

    [Test]
    public async Task Throttled_WithRetryAfterAboveTheCap_GoesToTheCallerAtOnce_WithTheVendorsWait()
    {
        VendorAnswers((429, Throttled, "120"), (200, Success, null));

        using var response = await PassthroughAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(120)));
            Assert.That(response.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "1" }));
            Assert.That(VendorCalls, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Normalized_ServerErrorThenSuccess_IsAnsweredFromTheSecondAttempt()
    {
        VendorAnswers((503, Failed, null), (200, Success, null));

        var call = GenerateAsync();
        await AdvanceUntilVendorCallsAsync(2);
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("provider").GetString(), Is.EqualTo("openai"));
        Assert.That(response.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "2" }));
    }

    [Test]
    public async Task AlwaysFailing_IsTriedThreeTimes_ThenTheLastAnswerIsTheCallers()
    {
        VendorAnswers((500, Failed, null));

        var call = GenerateAsync();
        await AdvanceUntilVendorCallsAsync(3);
        using var response = await call;

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "vendor_unavailable", "POST /v1/ai/generate");
        Assert.That(response.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "3" }));
        Assert.That(VendorCalls, Is.EqualTo(3));
    }

    [Test]
    public async Task StreamThatFailsAfterItsFirstEvent_IsNotTriedAgain_TheCallerGetsWhatCameAndAnErrorEvent()
    {
        _vendors.OpenAi.Given(Request.Create().WithPath(ChatPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream")
                .WithBody(VendorCase.OpenAi.ReadFixture("openai/golden/stream-error.sse")));

        using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/ai/generate", _gateway.ClientKeys["team-a"],
            """{"prompt":"Hi","model":"openai/gpt-6-luna","stream":true}"""), HttpCompletionOption.ResponseHeadersRead);
        var events = await new InternalEvents(await response.Content.ReadAsStreamAsync()).ReadToEndAsync();

        Assert.Multiple(() =>
        {
            Assert.That(events.Select(e => e.Name), Is.EqualTo(new[] { "delta", "error" }));
            Assert.That(events[1].Data.GetProperty("code").GetString(), Is.EqualTo("vendor_unavailable"));
            Assert.That(response.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "1" }));
            Assert.That(VendorCalls, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task CallerLeavingWhileTheRetryWaits_EndsTheCall_TheVendorIsNotCalledAgain()
    {
        VendorAnswers((503, Failed, null));
        using var measured = new GenAiMeasurements();
        using var leave = new CancellationTokenSource();

        var call = _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, _gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody), leave.Token);
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(_gateway.Logs.Contains("openai answered 503 to attempt 1; trying again")), "the 503 is held back");
        await leave.CancelAsync();
        Assert.That(async () => await call, Throws.InstanceOf<OperationCanceledException>());

        // The clock stands still: the call can only end (and be measured) by the gateway seeing the caller gone, which
        // cancels the backoff. Then the clock may run far past any backoff without another vendor call.
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(measured.Durations.Any(d => d.Tag("gen_ai.provider.name") == "openai")), "the call is over");
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(VendorCalls, Is.EqualTo(1));
        Assert.That(measured.Durations.Single(d => d.Tag("gen_ai.provider.name") == "openai").Tag("error.type"), Is.EqualTo("client_disconnected"));
    }

    [Test]
    public async Task RetriesTurnedOffForOneProvider_InTheConfigFile_TheFirstAnswerIsTheCallers_WithoutRestart()
    {
        VendorAnswers((503, Failed, null));
        // While retries are still on, their backoff must pass on the fake clock for a poll to end.
        await using var clock = RunClock();
        _gateway.EditConfig(GatewayHost.OverridesFile, c => c["Gateway"]!["Resilience"] = JsonNode.Parse("""{"Providers": {"openai": {"Retry": {"MaxRetries": 0}}}}"""));
        await GatewayHost.WaitUntilAsync(async () =>
        {
            _vendors.OpenAi.ResetLogEntries();
            using var response = await PassthroughAsync();
            return response.StatusCode == HttpStatusCode.ServiceUnavailable && VendorCalls == 1;
        }, "the reloaded setting turns openai's retries off");
    }

    [Test]
    public async Task PipelineTurnedOff_InTheConfigFile_EachCallIsForwardedOnce_WithoutRestart()
    {
        VendorAnswers((503, Failed, null));
        await using var clock = RunClock();
        _gateway.EditConfig(GatewayHost.OverridesFile, c => c["Gateway"]!["Resilience"] = JsonNode.Parse("""{"Enabled": false}"""));
        HttpResponseMessage? last = null;
        await GatewayHost.WaitUntilAsync(async () =>
        {
            _vendors.OpenAi.ResetLogEntries();
            last?.Dispose();
            last = await PassthroughAsync();
            return last.StatusCode == HttpStatusCode.ServiceUnavailable && VendorCalls == 1;
        }, "the reloaded setting turns the pipeline off");

        // The vendor's answer as it came, after one attempt.
        using (last)
        {
            Assert.That(last!.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "1" }));
            Assert.That(last.Headers.GetValues("x-gateway-provider"), Is.EqualTo(new[] { "openai" }));
            Assert.That(JsonNode.Parse(await last.Content.ReadAsStringAsync())!["error"], Is.Not.Null);
        }
    }
}
