using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using OpenTelemetry.Trace;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Gateway.Tests.Functional;

/// <summary>
/// Traces with OTLP export on, as a Datadog Agent (OTLP intake) or a collector receives them: a span per vendor attempt
/// with the GenAI semantic conventions' attributes, one trace id from the caller's traceparent to the vendor request, and
/// OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES on every span and metric export — read both from an in-memory exporter
/// and from the OTLP/HTTP protobuf requests an emulated intake receives (decoded by <see cref="OtlpPayload"/>).
/// </summary>
public sealed class TracingTests
{
    private const string CallerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string CallerSpanId = "00f067aa0ba902b7";

    private readonly SpanCollector _spans = new();
    private FakeVendors _vendors = null!;
    private WireMockServer _intake = null!;
    private GatewayHost _gateway = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _vendors = new FakeVendors();
        _intake = WireMockServer.Start();
        _intake.Given(Request.Create().WithPath("/v1/traces", "/v1/metrics").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/x-protobuf"));
        _gateway = await GatewayHost.StartAsync(_vendors.Addresses,
            editOverrides: o =>
            {
                // The standard OpenTelemetry variables, as the chart's Datadog example sets them.
                o["OTEL_EXPORTER_OTLP_ENDPOINT"] = _intake.Url;
                o["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                o["OTEL_SERVICE_NAME"] = "ai-gateway";
                o["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment.name=staging,service.version=1.4.0";
                o["OTEL_BSP_SCHEDULE_DELAY"] = "100";
                o["OTEL_METRIC_EXPORT_INTERVAL"] = "500";
                o["Gateway"]!["Resilience"] = JsonNode.Parse("""{"Retry": {"BaseDelay": "00:00:00.010", "MaxDelay": "00:00:00.050"}}""");
            },
            configure: b => b.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(_spans)));
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        _intake.Stop();
        _intake.Dispose();
        _vendors.Dispose();
    }

    private List<Activity> AttemptSpans(string traceId)
    {
        return [.. _spans.Where(s => s.Source.Name == "Gateway.GenAi" && s.TraceId.ToHexString() == traceId).OrderBy(s => s.StartTimeUtc)];
    }

    private async Task<List<Activity>> CallAsync(string body, string traceId, int expectedAttempts, string path = "/api/ai/openai/v1/chat/completions")
    {
        using var request = _gateway.Request(HttpMethod.Post, path, _gateway.ClientKeys["team-a"], body);
        request.Headers.Add("traceparent", $"00-{traceId}-{CallerSpanId}-01");
        using var response = await _gateway.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.GetValues("x-request-id").Single(), Is.EqualTo(traceId), "the caller's trace continues");
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(AttemptSpans(traceId).Count(s => s.Duration > TimeSpan.Zero) == expectedAttempts), "the attempt spans");
        return AttemptSpans(traceId);
    }

    private static object? Tag(Activity span, string name) => span.GetTagItem(name);

    [Test]
    public async Task AttemptSpan_HasTheGenAiAttributes_AndTheTraceReachesTheVendor()
    {
        _vendors.Reset();
        _vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));

        var span = (await CallAsync(VendorCase.OpenAi.RequestBody, CallerTraceId, 1)).Single();

        Assert.Multiple(() =>
        {
            Assert.That(span.DisplayName, Is.EqualTo("chat gpt-6-luna"));
            Assert.That(span.Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(Tag(span, "gen_ai.operation.name"), Is.EqualTo("chat"));
            Assert.That(Tag(span, "gen_ai.provider.name"), Is.EqualTo("openai"));
            Assert.That(Tag(span, "gen_ai.request.model"), Is.EqualTo("gpt-6-luna"));
            Assert.That(Tag(span, "gen_ai.response.model"), Is.EqualTo("gpt-6-luna-2026-09-22"));
            Assert.That(Tag(span, "gen_ai.usage.input_tokens"), Is.EqualTo(28));
            Assert.That(Tag(span, "gen_ai.usage.output_tokens"), Is.EqualTo(11));
            Assert.That(Tag(span, "gateway.attempt"), Is.EqualTo(1));
            Assert.That(Tag(span, "error.type"), Is.Null);
        });

        // The vendor got traceparent with the caller's trace id, from a span inside this attempt's.
        var sent = _vendors.OpenAi.LogEntries.Last().RequestMessage!.Headers!["traceparent"].Single().Split('-');
        Assert.That(sent[1], Is.EqualTo(CallerTraceId));
        // The server span ends after the caller has the whole answer (the steps after the forwarding run on), and so may
        // be exported a moment after the attempt's.
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(
            _spans.Any(s => s.TraceId.ToHexString() == CallerTraceId && s.Kind == ActivityKind.Server && s.ParentSpanId.ToHexString() == CallerSpanId)
            && _spans.Any(s => s.TraceId.ToHexString() == CallerTraceId && s.SpanId.ToHexString() == sent[2])), "the server and vendor-request spans");
        List<Activity> trace = [.. _spans.Where(s => s.TraceId.ToHexString() == CallerTraceId)];

        var vendorRequest = trace.Single(s => s.SpanId.ToHexString() == sent[2]);
        Assert.That(vendorRequest.ParentSpanId, Is.EqualTo(span.SpanId), "the HTTP request to the vendor is a child of the attempt");
        // The gateway's server span continues the caller's (the emulated vendor, in this process, has its own below).
        var server = trace.Single(s => s.Kind == ActivityKind.Server && s.ParentSpanId.ToHexString() == CallerSpanId);
        Assert.That(span.ParentSpanId, Is.EqualTo(server.SpanId));
    }

    [Test]
    public async Task NormalizedCall_AttemptSpan_HasTheFinishReason()
    {
        _vendors.Reset();
        _vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));

        var span = (await CallAsync("""{"prompt":"Hi","model":"openai/gpt-6-luna"}""", "7bf92f3577b34da6a3ce929d0e0e4739", 1, "/v1/ai/generate")).Single();

        Assert.That(Tag(span, "gen_ai.response.finish_reasons"), Is.EqualTo(new[] { "stop" }));
        Assert.That(Tag(span, "gen_ai.usage.input_tokens"), Is.EqualTo(28));
    }

    [Test]
    public async Task RetriedCall_HasASpanPerAttempt_TheFirstFailed()
    {
        _vendors.Reset();
        _vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost()).InScenario("retry").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(503).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture("openai/golden/error-500.json")));
        _vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost()).InScenario("retry").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.StreamFixture)));
        const string traceId = "5bf92f3577b34da6a3ce929d0e0e4737";

        var spans = await CallAsync(VendorCase.OpenAi.RequestBody.Replace("{", "{\"stream\":true,", StringComparison.Ordinal), traceId, 2);

        Assert.Multiple(() =>
        {
            Assert.That(spans.Select(s => Tag(s, "gateway.attempt")), Is.EqualTo(new object[] { 1, 2 }));
            Assert.That(Tag(spans[0], "http.response.status_code"), Is.EqualTo(503));
            Assert.That(Tag(spans[0], "error.type"), Is.EqualTo("vendor_unavailable"));
            Assert.That(spans[0].Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(Tag(spans[1], "error.type"), Is.Null);
            Assert.That(Tag(spans[1], "gen_ai.usage.input_tokens"), Is.EqualTo(28), "the stream's usage, on the attempt that served it");
            Assert.That(Tag(spans[1], "gen_ai.usage.output_tokens"), Is.EqualTo(11));
            Assert.That(Tag(spans[1], "gen_ai.response.finish_reasons"), Is.EqualTo(new[] { "stop" }), "read from the passthrough stream's last choice");
            Assert.That(spans[1].StartTimeUtc, Is.GreaterThanOrEqualTo(spans[0].StartTimeUtc + spans[0].Duration));
        });
    }

    [Test]
    public async Task OtlpIntake_ReceivesSpansAndMetrics_WithTheServiceAndResourceAttributes()
    {
        _vendors.Reset();
        _vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        const string traceId = "6bf92f3577b34da6a3ce929d0e0e4738";
        await CallAsync(VendorCase.OpenAi.RequestBody, traceId, 1);

        List<byte[]> Received(string path) => [.. _intake.LogEntries.Where(e => e.RequestMessage!.Path == path).Select(e => e.RequestMessage!.BodyAsBytes ?? [])];
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(
            Received("/v1/traces").SelectMany(OtlpPayload.Spans).Any(s => s.TraceId == traceId && s.Name == "chat gpt-6-luna")
            && Received("/v1/metrics").SelectMany(OtlpPayload.MetricNames).Contains("gateway.requests")), "the intake's spans and metrics");

        var span = Received("/v1/traces").SelectMany(OtlpPayload.Spans).First(s => s.TraceId == traceId && s.Name == "chat gpt-6-luna");
        Assert.Multiple(() =>
        {
            Assert.That(span.Attributes["gen_ai.provider.name"], Is.EqualTo("openai"));
            Assert.That(span.Attributes["gen_ai.usage.output_tokens"], Is.EqualTo("11"));
            Assert.That(_intake.LogEntries.First(e => e.RequestMessage!.Path == "/v1/traces").RequestMessage!.Headers!["Content-Type"].Single(), Is.EqualTo("application/x-protobuf"));
            foreach (var resource in Received("/v1/traces").Concat(Received("/v1/metrics")).SelectMany(OtlpPayload.Resources))
            {
                // Datadog's unified service tagging: service, env, version.
                Assert.That(resource["service.name"], Is.EqualTo("ai-gateway"));
                Assert.That(resource["deployment.environment.name"], Is.EqualTo("staging"));
                Assert.That(resource["service.version"], Is.EqualTo("1.4.0"));
            }
        });
    }
}
