using System.Net;
using System.Net.Http.Headers;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>/metrics serves Prometheus text exposition of the gateway's meters.</summary>
public sealed class MetricsEndpointTests : GatewayFixture
{
    // A policy on team-a, so the limiter's own metrics are in the scrape (and in its lint).
    protected override void EditOverrides(System.Text.Json.Nodes.JsonObject overrides)
    {
        overrides["Gateway"]!["RateLimiting"] = System.Text.Json.Nodes.JsonNode.Parse("""{"Policies": {"roomy": {"Requests": 100000}}}""");
        overrides["Gateway"]!["Clients"]!["team-a"]!["RateLimitPolicy"] = "roomy";
    }

    [Test]
    public async Task Metrics_AfterTraffic_ExposesRequestDurationsInPrometheusFormat()
    {
        Vendors.OpenAi.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        using (var call = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody)))
        {
            Assert.That(call.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var text = "";
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var scrape = await Gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("text/plain") } } });
            Assert.That(scrape.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(scrape.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/plain"));
            text = await scrape.Content.ReadAsStringAsync();
            return text.Contains("http_server_request_duration_seconds_bucket", StringComparison.Ordinal);
        }, "the scrape holds the server request histogram");

        Assert.That(text, Does.Match(@"gateway_vendor_attempt_duration_seconds_bucket\{[^}]*gen_ai_provider_name=""openai""[^}]*http_response_status_code=""200"""), "vendor calls are measured");
        Assert.That(text, Does.Contain("# TYPE http_server_request_duration_seconds histogram"));
        Assert.That(text, Does.Contain("kestrel_active_connections{"), "callers' connections are counted");
        var vendorPort = new Uri(Vendors.OpenAi.Url!).Port;
        Assert.That(text, Does.Match($@"gateway_vendor_connections\{{[^}}]*server_port=""{vendorPort}""[^}}]*\}} [1-9]"),
            "the connection to the vendor is counted while it is open");
        Assert.That(text, Does.Not.Contain(Gateway.VendorKeys["openai"]).And.Not.Contain(Gateway.ClientKeys["team-a"]));
        // Recorded on every call, and answered already by the durations' counts: not exported, so not paid for.
        foreach (var dropped in new[] { "http_server_active_requests", "http_client_active_requests", "http_client_request_time_in_queue",
            "aspnetcore_routing_match_attempts", "aspnetcore_memory_pool_", "http_client_open_connections", "http_client_request_duration" })
        {
            Assert.That(text, Does.Not.Contain(dropped));
        }
    }

    [Test]
    public async Task GenAiMetrics_NormalizedAndPassthroughCalls_RecordDurationAndTokens()
    {
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/models").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"object":"list","data":[]}"""));
        var measurements = new List<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Gateway.GenAi")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Add(System.Diagnostics.Metrics.Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (measurements)
            {
                measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        listener.Start();

        using (await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"], """{"prompt":"Hi"}""")))
        using (await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody)))
        using (await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Get, "/api/ai/openai/v1/models", Gateway.ClientKeys["team-a"])))
        {
        }

        List<(string Instrument, double Value, Dictionary<string, object?> Tags)> recorded;
        lock (measurements)
        {
            recorded = [.. measurements];
        }

        var durations = recorded.Where(m => m.Instrument == "gen_ai.client.operation.duration").ToList();
        Assert.That(durations, Has.Count.EqualTo(2), "two model calls; the models list is not a GenAI operation");
        Assert.That(durations.Select(d => d.Tags["gen_ai.operation.name"]), Has.All.EqualTo("chat"));
        Assert.That(durations.Select(d => d.Tags["gen_ai.provider.name"]), Has.All.EqualTo("openai"));
        Assert.That(durations.Select(d => d.Tags.GetValueOrDefault("gen_ai.request.model")), Has.All.EqualTo("gpt-6-luna"), "passthrough reads the model from the request body too");
        Assert.That(durations.Select(d => d.Tags["gen_ai.response.model"]), Has.All.EqualTo("gpt-6-luna-2026-09-22"));
        Assert.That(durations.Select(d => d.Value), Has.All.Positive);

        var tokens = recorded.Where(m => m.Instrument == "gen_ai.client.token.usage").ToList();
        Assert.That(tokens.Where(t => (string?)t.Tags["gen_ai.token.type"] == "input").Select(t => t.Value), Is.EqualTo(new double[] { 28, 28 }));
        Assert.That(tokens.Where(t => (string?)t.Tags["gen_ai.token.type"] == "output").Select(t => t.Value), Is.EqualTo(new double[] { 11, 11 }));
    }

    [Test]
    public async Task Scrape_AfterTraffic_IsLintCleanForPromtool()
    {
        var promtool = ExecutableOnPath.Find("promtool");
        if (promtool is null)
        {
            Assert.Fail("promtool is not on the PATH: run tests/run.sh (it installs it) or apt-get install prometheus.");
        }

        Vendors.OpenAi.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        foreach (var (path, body) in new[]
        {
            (VendorCase.OpenAi.GatewayPath, VendorCase.OpenAi.RequestBody), ("/v1/ai/generate", """{"prompt":"Hi"}"""),
            ("/v1/ai/generate", """{"prompt":"Hi","format":"json"}"""), ("/v1/ai/generate", "{}"),
        })
        {
            using var call = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, path, Gateway.ClientKeys["team-a"], body));
        }

        string text = "";
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var scrape = await Gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("text/plain") } } });
            text = await scrape.Content.ReadAsStringAsync();
            return text.Contains("gen_ai_client_operation_duration_seconds_bucket", StringComparison.Ordinal);
        }, "the scrape holds the GenAI metrics");

        var start = new System.Diagnostics.ProcessStartInfo(promtool!, "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.That(process.ExitCode, Is.Zero, output);
        Assert.That(output.Trim(), Is.Empty, "no lint finding at all");
        Assert.That(text, Does.Contain("gateway_limiter_decision_duration_seconds_bucket{").And.Contain("store=\"local\""), "the limiter's metrics are in the scrape");
    }

    [Test]
    public async Task AServerErrorAnswer_CarriesItsStatusAsErrorType_InTheServerDuration()
    {
        // The semantic conventions give a 5xx answer error.type = its status code even when nothing threw (ASP.NET Core
        // before 11 sets it only for an exception). A vendor's 503 that asks for more than the retry cap goes straight
        // to the caller.
        Vendors.Reset();
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(503).WithHeader("Retry-After", "3600").WithHeader("Content-Type", "application/json")
                .WithBody(VendorCase.OpenAi.ReadFixture("openai/golden/error-500.json")));
        var recorded = new List<Dictionary<string, object?>>();
        // The gateway's own server metrics (the fake vendors are ASP.NET Core servers in this process too).
        var meters = Gateway.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument is { Name: "http.server.request.duration", Meter.Name: "Microsoft.AspNetCore.Hosting" } && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            lock (recorded)
            {
                recorded.Add(tags.ToArray().ToDictionary(t => t.Key, t => t.Value));
            }
        });
        listener.Start();

        using (var call = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody)))
        {
            Assert.That(call.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        }

        List<Dictionary<string, object?>> failed = [];
        await GatewayHost.WaitUntilAsync(() =>
        {
            lock (recorded)
            {
                failed = [.. recorded.Where(t => t.TryGetValue("http.response.status_code", out var status) && Convert.ToInt32(status) == 503)];
            }

            return Task.FromResult(failed.Count > 0);
        }, "the 503 is measured");
        Assert.That(failed.Single()["error.type"], Is.EqualTo("503"));
    }
}
