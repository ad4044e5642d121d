using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Resilience;

/// <summary>
/// A provider's circuit breaker on the gateway's (fake) clock, with the shipped breaker defaults (ratio 0.5 over at
/// least 5 attempts in 30 s, 30 s break): a failing vendor is left alone during the break — normalized calls go to
/// the alias's fallback, passthrough calls get 503 with the time left — then one probe half-opens it and a success
/// closes it. OpenAI's retries are off here so that a call is one attempt and five calls are five failures.
/// </summary>
public sealed class CircuitBreakerTests
{
    private FakeVendors _vendors = null!;
    private FakeTimeProvider _time = null!;
    private GatewayHost _gateway = null!;

    [SetUp]
    public async Task StartAsync()
    {
        _vendors = new FakeVendors();
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _gateway = await GatewayHost.StartAsync(_vendors.Addresses, editOverrides: o =>
        {
            var gateway = o["Gateway"]!;
            gateway["Models"] = JsonNode.Parse("""
                {"default": {"Provider": "openai", "Model": "gpt-6-luna", "Fallbacks": ["anthropic/claude-haiku-5-5"]},
                 "solo": {"Provider": "openai", "Model": "gpt-6-luna"}}
                """);
            gateway["Resilience"] = JsonNode.Parse("""{"Providers": {"openai": {"Retry": {"MaxRetries": 0}}}}""");
        }, configure: b => b.Services.AddSingleton<TimeProvider>(_time));
        _vendors.AnswerEveryChatCall();
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        _vendors.Dispose();
    }

    private int OpenAiCalls => _vendors.OpenAi.LogEntries.Count(e => e.RequestMessage!.Path == VendorCase.OpenAi.VendorPath);

    private void OpenAiFails() => _vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost()).AtPriority(1).WithTitle("failing")
        .RespondWith(Response.Create().WithStatusCode(500).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture("openai/golden/error-500.json")));

    private void OpenAiRecovers()
    {
        foreach (var mapping in _vendors.OpenAi.Mappings.Where(m => m.Title == "failing").ToList())
        {
            _vendors.OpenAi.DeleteMapping(mapping.Guid);
        }
    }

    private async Task<(HttpResponseMessage Response, JsonElement Body)> GenerateAsync(string model = "default")
    {
        var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/ai/generate", _gateway.ClientKeys["team-a"], $$"""{"prompt":"Hi","model":"{{model}}"}"""));
        return (response, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }

    [Test]
    public async Task FiveFailures_OpenTheBreaker_CallsFallBackWhileOpen_ThenOneProbeHalfOpensIt_AndASuccessClosesIt()
    {
        OpenAiFails();
        for (var i = 0; i < 5; i++)
        {
            var (failed, problem) = await GenerateAsync();
            Assert.That(failed.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway), $"call {i + 1}: {problem}");
        }

        Assert.That(OpenAiCalls, Is.EqualTo(5));

        // Open: normalized calls go to the fallback, openai sees nothing.
        for (var i = 0; i < 3; i++)
        {
            var (response, body) = await GenerateAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToString());
            Assert.That(body.GetProperty("provider").GetString(), Is.EqualTo("anthropic"));
            Assert.That(response.Headers.GetValues("x-gateway-provider"), Is.EqualTo(new[] { "anthropic" }));
            Assert.That(response.Headers.GetValues("x-gateway-fallback-from"), Is.EqualTo(new[] { "openai" }));
        }

        Assert.That(OpenAiCalls, Is.EqualTo(5), "no call reaches the failing vendor during the break");
        var anthropicSent = JsonDocument.Parse(_vendors.Anthropic.LogEntries.Last().RequestMessage!.Body!).RootElement;
        Assert.That(anthropicSent.GetProperty("model").GetString(), Is.EqualTo("claude-haiku-5-5"), "re-planned for the fallback's vendor and model");

        // After the break: one probe goes to openai; it succeeds and closes the breaker.
        OpenAiRecovers();
        _time.Advance(TimeSpan.FromSeconds(31));
        var (probe, probeBody) = await GenerateAsync();
        Assert.That(probe.StatusCode, Is.EqualTo(HttpStatusCode.OK), probeBody.ToString());
        Assert.That(probeBody.GetProperty("provider").GetString(), Is.EqualTo("openai"));
        Assert.That(probe.Headers.Contains("x-gateway-fallback-from"), Is.False);
        Assert.That(OpenAiCalls, Is.EqualTo(6));

        var (after, afterBody) = await GenerateAsync();
        Assert.That(afterBody.GetProperty("provider").GetString(), Is.EqualTo("openai"), "closed again");
        Assert.That(OpenAiCalls, Is.EqualTo(7));
    }

    [Test]
    public async Task WhileOpen_ChatCompletionsCalls_FallBack_OnlyToAVendorThatTakesAllOfTheCall()
    {
        OpenAiFails();
        for (var i = 0; i < 5; i++)
        {
            using var failed = (await GenerateAsync()).Response;
        }

        using var moved = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/chat/completions", _gateway.ClientKeys["team-a"],
            """{"model": "default", "messages": [{"role": "user", "content": "Hi"}]}"""));
        var answer = JsonDocument.Parse(await moved.Content.ReadAsStringAsync()).RootElement;
        Assert.That(moved.StatusCode, Is.EqualTo(HttpStatusCode.OK), answer.ToString());
        Assert.That(answer.GetProperty("object").GetString(), Is.EqualTo("chat.completion"), "OpenAI's shape, from the fallback's vendor");
        Assert.That(answer.GetProperty("model").GetString(), Is.EqualTo("claude-sonnet-5-5-20260929"), "the anthropic fixture's answering model");
        Assert.That(moved.Headers.GetValues("x-gateway-fallback-from"), Is.EqualTo(new[] { "openai" }));
        var anthropicCalls = _vendors.Anthropic.LogEntries.Count();

        // Anthropic takes no seed: the call is not moved there to lose it.
        using var kept = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/chat/completions", _gateway.ClientKeys["team-a"],
            """{"model": "default", "seed": 7, "messages": [{"role": "user", "content": "Hi"}]}"""));
        var problem = await ProblemAssert.IsProblemAsync(kept, HttpStatusCode.ServiceUnavailable, "vendor_unavailable", "POST /v1/chat/completions");
        Assert.That(problem.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("vendor_unavailable"), "OpenAI's error member too");
        Assert.That(_vendors.Anthropic.LogEntries.Count(), Is.EqualTo(anthropicCalls));
        Assert.That(OpenAiCalls, Is.EqualTo(5));
    }

    [Test]
    public async Task WhileOpen_PassthroughAndCallsWithoutFallback_Get503_WithTheBreakTimeLeft()
    {
        OpenAiFails();
        for (var i = 0; i < 5; i++)
        {
            using var failed = (await GenerateAsync("solo")).Response;
        }

        _time.Advance(TimeSpan.FromSeconds(10));
        using var passthrough = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, _gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
        var problem = await ProblemAssert.IsProblemAsync(passthrough, HttpStatusCode.ServiceUnavailable, "vendor_unavailable", "POST " + VendorCase.OpenAi.GatewayPath);
        Assert.That(passthrough.Headers.RetryAfter!.Delta, Is.EqualTo(TimeSpan.FromSeconds(20)));
        // The decision headers say whose breaker it is, and that no attempt was made.
        Assert.That(passthrough.Headers.GetValues("x-gateway-provider"), Is.EqualTo(new[] { "openai" }));
        Assert.That(passthrough.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "0" }));
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("circuit breaker is open"));

        var (solo, _) = await GenerateAsync("solo");
        Assert.That(solo.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(OpenAiCalls, Is.EqualTo(5));
    }
}
