using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Contracts;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// What the GenAI metrics record: every model call (Responses API included) with its usage, request and response
/// model as bounded labels, and an error type from one vocabulary — the gateway's error codes.
/// </summary>
public sealed class GenAiTelemetryTests : GatewayFixture
{
    private static readonly string ResponsesRequest = """{"model":"gpt-6-luna","input":"Summarize the following email."}""";

    protected override void EditOverrides(JsonObject overrides)
    {
        var gateway = overrides["Gateway"]!;
        gateway["RateLimiting"] = JsonNode.Parse("""{"Policies": {"tokens": {"Tokens": 100000, "Window": "00:01:00"}}}""");
        gateway["Clients"]!["team-b"]!["RateLimitPolicy"] = "tokens";
    }

    [SetUp]
    public void VendorsAnswer()
    {
        Vendors.Reset();
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/responses").UsingPost().WithBody(b => b != null && b.Contains("\"stream\":true")))
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(VendorCase.OpenAi.ReadFixture("openai/response-stream.sse")));
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/responses").UsingPost().WithBody(b => b != null && !b.Contains("\"stream\":true")))
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture("openai/response.json")));
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
        }
    }

    private async Task<HttpStatusCode> PostAsync(string path, string body, string client = "team-a")
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, path, Gateway.ClientKeys[client], body));
        await response.Content.ReadAsStringAsync();
        return response.StatusCode;
    }

    [TestCase(false, 36, 11)]
    [TestCase(true, 12, 9)]
    public async Task ResponsesApi_IsMeteredAsChat_JsonAndStreamed(bool stream, int input, int output)
    {
        using var measured = new GenAiMeasurements();
        var body = stream ? ResponsesRequest.Replace("{", "{\"stream\":true,", StringComparison.Ordinal) : ResponsesRequest;

        Assert.That(await PostAsync("/api/ai/openai/v1/responses", body), Is.EqualTo(HttpStatusCode.OK));

        var duration = measured.Durations.Single();
        Assert.Multiple(() =>
        {
            Assert.That(duration.Tag("gen_ai.operation.name"), Is.EqualTo("chat"));
            Assert.That(duration.Tag("gen_ai.provider.name"), Is.EqualTo("openai"));
            Assert.That(duration.Tag("gen_ai.request.model"), Is.EqualTo("gpt-6-luna"));
            Assert.That(duration.Tag("gen_ai.response.model"), Is.EqualTo("gpt-6-luna-2026-09-22"));
            Assert.That(duration.Tags.ContainsKey("error.type"), Is.False);
            Assert.That(measured.Tokens("input").Single().Value, Is.EqualTo(input));
            Assert.That(measured.Tokens("output").Single().Value, Is.EqualTo(output));
        });
    }

    [Test]
    public async Task ResponsesApi_Streamed_SettlesTheTokenReservationToItsUsage()
    {
        var streamed = ResponsesRequest.Replace("{", "{\"stream\":true,", StringComparison.Ordinal);
        Assert.That(await PostAsync("/api/ai/openai/v1/responses", streamed, "team-b"), Is.EqualTo(HttpStatusCode.OK));

        using var next = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/api/ai/openai/v1/responses", Gateway.ClientKeys["team-b"], ResponsesRequest));
        var left = long.Parse(next.Headers.GetValues("RateLimit").Single().Split(";r=")[1].Split(';')[0], System.Globalization.CultureInfo.InvariantCulture);
        var reservedForNext = ResponsesRequest.Length / 4 + 1024;
        Assert.That(left, Is.EqualTo(100000 - 21 - reservedForNext), "the streamed call holds its 21 tokens, not its reservation");
    }

    [TestCase("openai", "/api/ai/openai/v1/chat/completions", """{"messages":[{"role":"user","content":"Hi"}],"model":"gpt-6-luna"}""", "gpt-6-luna")]
    [TestCase("anthropic", "/api/ai/anthropic/v1/messages", """{"max_tokens":256,"model":"claude-sonnet-5-5","messages":[{"role":"user","content":"Hi"}]}""", "claude-sonnet-5-5")]
    [TestCase("cohere", "/api/ai/cohere/v2/chat", """{"model":"command-r-08-2024","messages":[{"role":"user","content":"Hi"}]}""", "command-r-08-2024")]
    public async Task Passthrough_RequestModel_IsReadFromTheBody_WhereverItStands(string provider, string path, string body, string model)
    {
        using var measured = new GenAiMeasurements();
        Assert.That(await PostAsync(path, body), Is.EqualTo(HttpStatusCode.OK));

        var duration = measured.Durations.Single();
        Assert.That(duration.Tag("gen_ai.provider.name"), Is.EqualTo(provider));
        Assert.That(duration.Tag("gen_ai.request.model"), Is.EqualTo(model));
    }

    [Test]
    public async Task ModelLabels_OnlyConfiguredModels_OthersAreOther()
    {
        using var measured = new GenAiMeasurements();
        for (var i = 0; i < 20; i++)
        {
            Assert.That(await PostAsync("/v1/ai/generate", $$"""{"prompt":"Hi","model":"openai/flood-{{i}}"}"""), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await PostAsync(VendorCase.OpenAi.GatewayPath, $$"""{"model":"flood-{{i}}","messages":[{"role":"user","content":"Hi"}]}"""), Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(measured.Durations.Select(d => d.Tag("gen_ai.request.model")).Distinct(), Is.EqualTo(new[] { "other" }));

        using var scrape = await Gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("text/plain") } } });
        Assert.That(await scrape.Content.ReadAsStringAsync(), Does.Not.Contain("flood"));
    }

    [Test]
    public async Task ErrorType_IsAlwaysAGatewayErrorCode()
    {
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/embeddings").UsingPost()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Content-Type", "application/json").WithHeader("retry-after", "3")
                .WithBody("""{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"""));
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/completions").UsingPost()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(500).WithHeader("Content-Type", "application/json").WithBody("""{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"""));
        using var measured = new GenAiMeasurements();

        await PostAsync("/v1/ai/generate", """{"prompt":"Hi","format":"json"}"""); // the fixture's text is not JSON: invalid_model_output
        await PostAsync("/api/ai/openai/v1/embeddings", """{"model":"text-embedding-3-small","input":"x"}""");
        await PostAsync("/api/ai/openai/v1/completions", """{"model":"gpt-6-luna","prompt":"x"}""");

        Assert.That(measured.Durations.Select(d => d.Tag("error.type")), Is.EqualTo(new[] { "invalid_model_output", "rate_limited", "vendor_unavailable" }));
    }

    [Test]
    public async Task CallerHangingUpMidStream_IsAClientDisconnect_NotAVendorFault()
    {
        Vendors.Reset();
        // Anthropic mid-generation: four events, then quiet until the test is over, whatever the gateway does meanwhile.
        var testOver = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var events = VendorCase.Anthropic.StreamEvents().Take(4).ToList();
        Vendors.Anthropic.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream")
                .WithSseBody(async (_, queue) =>
                {
                    events.ForEach(queue.Write);
                    await testOver.Task;
                    queue.Close();
                }));
        using var measured = new GenAiMeasurements();
        using var release = new Releaser(testOver);

        // No draining on dispose: the connection closes at once, as a caller that crashed or gave up would close it.
        using var caller = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = Gateway.BaseAddress };
        var response = await caller.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.Anthropic.GatewayPath, Gateway.ClientKeys["team-a"],
            VendorCase.Anthropic.RequestBody.Replace("{", "{\"stream\":true,", StringComparison.Ordinal)), HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        Assert.That(await stream.ReadAsync(new byte[16]), Is.Positive);
        response.Dispose();

        await GatewayHost.WaitUntilAsync(() => Task.FromResult(measured.Durations.Count == 1), "the call is recorded", TimeSpan.FromSeconds(10));
        Assert.That(measured.Durations.Single().Tag("error.type"), Is.EqualTo("client_disconnected"));
        Assert.That(Gateway.Logs.Entries, Has.None.StartsWith("Warning").And.None.Contains("Forwarding failed"));
    }

    private sealed class Releaser(TaskCompletionSource source) : IDisposable
    {
        public void Dispose() => source.TrySetResult();
    }
}
