using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>/v1/ai/generate and /v1/ai/summarize (and their /api/ai aliases) speak one schema whatever vendor serves them.</summary>
public sealed class NormalizedEndpointTests : GatewayFixture
{
    private const string SeedExample = """{"prompt": "Summarize the following email.", "context": "Please review the attached invoice and confirm delivery times for Q3."}""";
    private const string ExpectedText = "Customer requests invoice review and Q3 delivery confirmation.";

    [SetUp]
    public void ResetVendors() => Vendors.Reset();

    private static IEnumerable<TaskVendorCase> AllVendors => TaskVendorCase.All;

    private static IEnumerable<TestCaseData> VendorsAndEndpoints =>
        from vendor in TaskVendorCase.All
        from endpoint in new[] { "/v1/ai/generate", "/v1/ai/summarize", "/api/ai/generate", "/api/ai/summarize" }
        select new TestCaseData(vendor, endpoint).SetArgDisplayNames(vendor.Name, endpoint);

    private void VendorAnswers(TaskVendorCase vendor)
    {
        var fake = Vendors[vendor.Name];
        fake.Given(Request.Create().WithPath(vendor.Vendor.VendorPath).WithBody(b => b != null && !b.Contains("\"stream\":true")).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithHeader("Set-Cookie", "__cf_bm=vendor-cookie; path=/").WithBody(vendor.Vendor.ReadFixture(vendor.Vendor.ResponseFixture)));
    }

    private Task<HttpResponseMessage> PostAsync(string path, string json, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
        => Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, path, Gateway.ClientKeys["team-a"], json), completion);

    private static string WithModel(string json, TaskVendorCase vendor, bool stream = false)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node["model"] = vendor.Model;
        if (stream)
        {
            node["stream"] = true;
        }

        return node.ToJsonString();
    }

    [TestCaseSource(nameof(AllVendors))]
    public async Task VendorCall_CarriesTheCallersTraceId_UnderTheGatewaysOwnSpan_AndNothingElseOfItsContext(TaskVendorCase vendor)
    {
        // Spans are not exported here (no OTLP endpoint): traceparent is written from the request's own activity.
        VendorAnswers(vendor);
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        const string callerSpan = "00f067aa0ba902b7";
        using var request = Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"], WithModel(SeedExample, vendor));
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        request.Headers.Add("tracestate", "corp=tenant-7");
        request.Headers.Add("baggage", "user.id=alice");

        using var response = await Gateway.Client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var headers = Vendors[vendor.Name].LogEntries.Single().RequestMessage!.Headers!;
        var traceparent = headers.Single(h => h.Key.Equals("traceparent", StringComparison.OrdinalIgnoreCase)).Value.Single().Split('-');
        Assert.Multiple(() =>
        {
            Assert.That(traceparent, Has.Length.EqualTo(4));
            Assert.That(traceparent[0], Is.EqualTo("00"));
            Assert.That(traceparent[1], Is.EqualTo(traceId), "the caller's trace id");
            Assert.That(traceparent[2], Does.Match("^[0-9a-f]{16}$").And.Not.EqualTo(callerSpan), "the gateway's span, not the caller's");
            Assert.That(traceparent[3], Is.EqualTo("01"));
            Assert.That(response.Headers.GetValues("x-request-id").Single(), Is.EqualTo(traceId));
            Assert.That(headers.Keys, Has.None.EqualTo("tracestate").IgnoreCase.And.None.EqualTo("baggage").IgnoreCase);
        });
    }

    [TestCaseSource(nameof(AllVendors))]
    public async Task Summarize_SeedExample_ReturnsSummaryEnvelope_AndSendsVendorRequest(TaskVendorCase vendor)
    {
        VendorAnswers(vendor);

        using var response = await PostAsync("/api/ai/summarize", WithModel(SeedExample, vendor));

        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/json"));
        Assert.That(response.Headers.Contains("Set-Cookie"), Is.False, "vendor headers stay behind a normalized route");
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(body.GetProperty("summary").GetString(), Is.EqualTo(ExpectedText));
            Assert.That(body.TryGetProperty("output", out _), Is.False);
            Assert.That(body.GetProperty("provider").GetString(), Is.EqualTo(vendor.Name));
            Assert.That(body.GetProperty("model").GetString(), Is.EqualTo(vendor.ExpectedModel));
            Assert.That(body.GetProperty("format").GetString(), Is.EqualTo("text"));
            Assert.That(body.GetProperty("finish_reason").GetString(), Is.EqualTo("stop"));
            Assert.That(body.GetProperty("usage").GetProperty("input_tokens").GetInt32(), Is.EqualTo(vendor.InputTokens));
            Assert.That(body.GetProperty("usage").GetProperty("output_tokens").GetInt32(), Is.EqualTo(vendor.OutputTokens));
            Assert.That(body.GetProperty("usage").GetProperty("total_tokens").GetInt32(), Is.EqualTo(vendor.InputTokens + vendor.OutputTokens));
            Assert.That(body.GetProperty("cost_usd").GetDecimal(), Is.Positive);
            Assert.That(body.GetProperty("request_id").GetString(), Is.EqualTo(response.Headers.GetValues("x-request-id").Single()));
        });

        var received = Vendors[vendor.Name].LogEntries.Single().RequestMessage!;
        var sent = JsonDocument.Parse(received.Body!).RootElement;
        var headers = received.Headers!.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        Assert.That(received.Path, Is.EqualTo(vendor.Vendor.VendorPath));
        Assert.That(headers[vendor.Vendor.CredentialHeader], Is.EqualTo(vendor.Vendor.CredentialPrefix + Gateway.VendorKeys[vendor.Name]));
        var otherCredential = vendor.Name == "anthropic" ? "Authorization" : "x-api-key";
        Assert.That(headers.Keys, Has.None.EqualTo(otherCredential).IgnoreCase.And.None.StartsWith("X-Forwarded").IgnoreCase);
        Assert.That(headers.Values, Has.None.Contains(Gateway.ClientKeys["team-a"]));
        Assert.That(headers["Content-Type"], Is.EqualTo("application/json"));
        Assert.That(headers["Accept"], Is.EqualTo("application/json"));
        const string userContent = "Summarize the following email.\n\nPlease review the attached invoice and confirm delivery times for Q3.";
        Assert.That(sent.GetProperty("model").GetString(), Is.EqualTo(vendor.Model[(vendor.Name.Length + 1)..]));
        switch (vendor.Name)
        {
            case "openai":
                Assert.That(sent.GetProperty("messages")[0].GetProperty("role").GetString(), Is.EqualTo("system"));
                Assert.That(sent.GetProperty("messages")[0].GetProperty("content").GetString(), Does.Contain("plain text"));
                Assert.That(sent.GetProperty("messages")[1].GetProperty("role").GetString(), Is.EqualTo("user"));
                Assert.That(sent.GetProperty("messages")[1].GetProperty("content").GetString(), Is.EqualTo(userContent));
                Assert.That(sent.GetProperty("max_completion_tokens").GetInt32(), Is.EqualTo(1024));
                Assert.That(sent.TryGetProperty("stream", out _), Is.False);
                break;
            case "anthropic":
                Assert.That(sent.GetProperty("system").GetString(), Does.Contain("plain text"));
                Assert.That(sent.GetProperty("messages").GetArrayLength(), Is.EqualTo(1));
                Assert.That(sent.GetProperty("messages")[0].GetProperty("content").GetString(), Is.EqualTo(userContent));
                Assert.That(sent.GetProperty("max_tokens").GetInt32(), Is.EqualTo(1024));
                Assert.That(headers["anthropic-version"], Is.EqualTo("2023-06-01"));
                break;
            case "cohere":
                Assert.That(sent.GetProperty("messages")[0].GetProperty("role").GetString(), Is.EqualTo("system"));
                Assert.That(sent.GetProperty("messages")[1].GetProperty("content").GetString(), Is.EqualTo(userContent));
                Assert.That(sent.GetProperty("max_tokens").GetInt32(), Is.EqualTo(1024));
                break;
        }
    }

    [TestCaseSource(nameof(VendorsAndEndpoints))]
    public async Task StreamedAndPlain_GiveTheSameTextAndUsage_AndDeltasArriveBeforeTheVendorEnds(TaskVendorCase vendor, string endpoint)
    {
        VendorAnswers(vendor);
        var events = vendor.Vendor.StreamEvents().ToList();
        var firstDelta = events.FindIndex(e => e.Contains("Customer requests", StringComparison.Ordinal));
        var callerGotDelta = new SemaphoreSlim(0);
        var vendorWaited = false;
        Vendors[vendor.Name].Given(Request.Create().WithPath(vendor.Vendor.VendorPath).WithBody(b => b != null && b.Contains("\"stream\":true")).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream")
                .WithSseBody(async (_, queue) =>
                {
                    for (var i = 0; i < events.Count; i++)
                    {
                        queue.Write(events[i]);
                        if (i == firstDelta)
                        {
                            vendorWaited = await callerGotDelta.WaitAsync(TimeSpan.FromSeconds(10));
                        }
                    }

                    queue.Close();
                }));

        using var plain = await PostAsync(endpoint, WithModel(SeedExample, vendor));
        var plainBody = JsonDocument.Parse(await plain.Content.ReadAsStringAsync()).RootElement;
        Assert.That(plain.StatusCode, Is.EqualTo(HttpStatusCode.OK), plainBody.ToString());
        var plainText = plainBody.GetProperty(endpoint.EndsWith("summarize", StringComparison.Ordinal) ? "summary" : "output").GetString();

        using var streamed = await PostAsync(endpoint, WithModel(SeedExample, vendor, stream: true), HttpCompletionOption.ResponseHeadersRead);
        Assert.That(streamed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(streamed.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/event-stream"));
        var reader = new InternalEvents(await streamed.Content.ReadAsStreamAsync());
        var first = await reader.NextAsync();
        Assert.That(first?.Name, Is.EqualTo("delta"), "the first event is the first piece of text");
        callerGotDelta.Release();
        var all = await reader.ReadToEndAsync();

        Assert.That(vendorWaited, Is.True, "the caller had the first delta while the vendor was still streaming");
        Assert.That(all.Select(e => e.Name).SkipWhile(n => n == "delta"), Is.EqualTo(new[] { "usage", "done" }));
        Assert.That(reader.Text, Is.EqualTo(plainText).And.EqualTo(ExpectedText));
        var usage = all.Single(e => e.Name == "usage").Data;
        Assert.That(usage.GetProperty("input_tokens").GetInt32(), Is.EqualTo(plainBody.GetProperty("usage").GetProperty("input_tokens").GetInt32()));
        Assert.That(usage.GetProperty("output_tokens").GetInt32(), Is.EqualTo(plainBody.GetProperty("usage").GetProperty("output_tokens").GetInt32()));
        var done = all.Single(e => e.Name == "done").Data;
        Assert.That(done.GetProperty("finish_reason").GetString(), Is.EqualTo("stop"));
        Assert.That(done.GetProperty("provider").GetString(), Is.EqualTo(vendor.Name));

        var streamMessage = Vendors[vendor.Name].LogEntries.Last().RequestMessage!;
        var streamRequest = JsonDocument.Parse(streamMessage.Body!).RootElement;
        Assert.That(streamRequest.GetProperty("stream").GetBoolean(), Is.True);
        Assert.That(streamMessage.Headers!["Accept"], Is.EqualTo(new[] { "text/event-stream" }));
        Assert.That(streamMessage.Headers!["Content-Type"], Is.EqualTo(new[] { "application/json" }));
        if (vendor.Name == "openai")
        {
            Assert.That(streamRequest.GetProperty("stream_options").GetProperty("include_usage").GetBoolean(), Is.True);
        }
    }

    [Test]
    public async Task Generate_WithoutModel_UsesDefaultAlias()
    {
        VendorAnswers(TaskVendorCase.OpenAi);
        using var response = await PostAsync("/v1/ai/generate", """{"prompt":"Say hi"}""");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("provider").GetString(), Is.EqualTo("openai"));
        Assert.That(body.GetProperty("output").GetString(), Is.EqualTo(ExpectedText));
        Assert.That(JsonDocument.Parse(Vendors.OpenAi.LogEntries.Single().RequestMessage!.Body!).RootElement.GetProperty("model").GetString(), Is.EqualTo("gpt-6-luna"));
    }

    [Test]
    public async Task Generate_WithAQueryString_SendsTheVendorNoneOfIt()
    {
        VendorAnswers(TaskVendorCase.OpenAi);
        using var response = await PostAsync("/v1/ai/generate?api-version=2024-10-21&key=not-for-the-vendor", """{"prompt":"Say hi"}""");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var received = Vendors.OpenAi.LogEntries.Single().RequestMessage!;
        Assert.That(received.Path, Is.EqualTo(TaskVendorCase.OpenAi.Vendor.VendorPath));
        Assert.That(received.Url, Does.Not.Contain("?").And.Not.Contain("not-for-the-vendor"));
    }

    [Test]
    public async Task Generate_Messages_SystemTurnsJoinTheSystemInstruction()
    {
        VendorAnswers(TaskVendorCase.Anthropic);
        using var response = await PostAsync("/v1/ai/generate", """
            {"model":"anthropic/claude-sonnet-5-5","system":"You are terse.","max_tokens":64,"temperature":0.2,
             "messages":[{"role":"system","content":"Use British spelling."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":"Colour?"}]}
            """);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var sent = JsonDocument.Parse(Vendors.Anthropic.LogEntries.Single().RequestMessage!.Body!).RootElement;
        Assert.That(sent.GetProperty("system").GetString(), Does.StartWith("You are terse.\n\nUse British spelling.\n\n"));
        Assert.That(sent.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()), Is.EqualTo(new[] { "user", "assistant", "user" }));
        Assert.That(sent.GetProperty("max_tokens").GetInt32(), Is.EqualTo(64));
        Assert.That(sent.GetProperty("temperature").GetDouble(), Is.EqualTo(0.2));
    }

    [Test]
    public async Task OutsideProviderScope_Is403_BeforeAnyVendorCall()
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-b"],
            """{"prompt":"Hi","model":"anthropic/claude-sonnet-5-5"}"""));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden, "forbidden", "POST /v1/ai/generate");
        Assert.That(Vendors.Anthropic.LogEntries, Is.Empty);
    }

    [Test]
    public async Task NotJson_Is415Problem()
    {
        using var request = Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"]);
        request.Content = new StringContent("prompt=hi", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await Gateway.Client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type", "POST /v1/ai/generate");
    }
}
