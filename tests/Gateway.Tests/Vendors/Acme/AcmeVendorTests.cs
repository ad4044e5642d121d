using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Vendors;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Gateway.Tests.Vendors.Acme;

/// <summary>
/// A vendor added with its own folder and configuration only: its adapter registered as a service, a provider, a
/// cluster, a passthrough route and an alias in config. It then works like the built-in three, through passthrough
/// (key injected in its scheme, callers' credentials stripped, usage metered) and the normalized endpoints (request
/// shaped, answer and stream translated into the internal schema, priced at its configured price).
/// </summary>
[NonParallelizable]
public sealed class AcmeVendorTests
{
    private const string Answer = """{"id":"gen-7","model":"acme-2-0925","output":{"text":"Invoice review requested."},"stop":"done","meter":{"in":31,"out":5}}""";

    private static readonly string[] StreamEvents =
    [
        "data: {\"kind\":\"start\",\"id\":\"gen-8\",\"model\":\"acme-2-0925\"}\n\n",
        "data: {\"kind\":\"text\",\"text\":\"Invoice \"}\n\n",
        "data: {\"kind\":\"text\",\"text\":\"review requested.\"}\n\n",
        "data: {\"kind\":\"end\",\"stop\":\"done\",\"meter\":{\"in\":31,\"out\":5}}\n\n",
    ];

    private WireMockServer _acme = null!;
    private GatewayHost _gateway = null!;
    private string _acmeKey = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        using var vendors = new FakeVendors();
        _acme = WireMockServer.Start();
        _acmeKey = "acme-" + Guid.NewGuid().ToString("N");
        var keyVariable = "GWTEST_ACME_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(keyVariable, _acmeKey);
        _gateway = await GatewayHost.StartAsync(
            vendors.Addresses,
            editProxy: proxy =>
            {
                proxy["ReverseProxy"]!["Clusters"]!["acme"] = new JsonObject
                {
                    ["Destinations"] = new JsonObject { ["primary"] = new JsonObject { ["Address"] = _acme.Url + "/" } },
                };
                proxy["ReverseProxy"]!["Routes"]!["acme"] = new JsonObject
                {
                    ["ClusterId"] = "acme",
                    ["Match"] = new JsonObject { ["Path"] = "/api/ai/acme/{**path}" },
                };
            },
            editOverrides: overrides =>
            {
                var gateway = overrides["Gateway"]!;
                gateway["Providers"]!["acme"] = new JsonObject { ["Vendor"] = AcmeVendor.VendorName, ["ApiKey"] = "env:" + keyVariable };
                gateway["Models"] = new JsonObject { ["anvil"] = new JsonObject { ["Provider"] = "acme", ["Model"] = "acme-2" } };
                gateway["Prices"] = new JsonObject { ["acme-2"] = new JsonObject { ["InputPerMillionUsd"] = 1.0, ["OutputPerMillionUsd"] = 2.0 } };
            },
            configure: builder => builder.Services.AddSingleton<IVendorAdapter, AcmeVendor>());
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        _acme.Dispose();
    }

    [SetUp]
    public void Reset() => _acme.Reset();

    [Test]
    public async Task Passthrough_InjectsTheAcmeKey_StripsCallerCredentials_AndMetersTheReportedUsage()
    {
        _acme.Given(Request.Create().WithPath("/v3/generate").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithHeader("Acme-Account", "acct-123").WithBody(Answer));
        using var measured = new GenAiMeasurements();

        using var request = _gateway.Request(HttpMethod.Post, "/api/ai/acme/v3/generate", _gateway.ClientKeys["team-a"],
            """{"model":"acme-2","turns":[{"speaker":"human","text":"Review the invoice."}],"limit":50}""");
        request.Headers.Add(AcmeVendor.KeyHeader, "callers-own-key");
        request.Headers.Add("Acme-Billing-Unit", "someone-else");
        request.Headers.Add("Acme-Trace", "t-1");
        using var response = await _gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        var sent = _acme.LogEntries.Single().RequestMessage!;
        Assert.Multiple(() =>
        {
            Assert.That(body, Is.EqualTo(Answer), "the vendor's answer, unchanged");
            Assert.That(response.Headers.Contains("Acme-Account"), Is.False, "the vendor's account header stays with the gateway");
            Assert.That(sent.Headers![AcmeVendor.KeyHeader], Is.EqualTo(new[] { _acmeKey }), "the gateway's key, in the vendor's scheme");
            Assert.That(sent.Headers.ContainsKey("Acme-Billing-Unit"), Is.False, "a billing header only configuration may set");
            Assert.That(sent.Headers["Acme-Trace"], Is.EqualTo(new[] { "t-1" }), "a header of the vendor's API");
            var duration = measured.Durations.Single(d => d.Tag("gen_ai.provider.name") == "acme");
            Assert.That(duration.Tag("gen_ai.operation.name"), Is.EqualTo("chat"));
            Assert.That(duration.Tag("gen_ai.request.model"), Is.EqualTo("acme-2"));
            Assert.That(duration.Tag("gen_ai.response.model"), Is.EqualTo("acme-2-0925"));
            Assert.That(measured.Tokens("input").Where(t => t.Tag("gen_ai.provider.name") == "acme").Sum(t => t.Value), Is.EqualTo(31));
            Assert.That(measured.Tokens("output").Where(t => t.Tag("gen_ai.provider.name") == "acme").Sum(t => t.Value), Is.EqualTo(5));
        });
    }

    [Test]
    public async Task Passthrough_PathOutsideTheAcmeDefaults_IsForbidden()
    {
        using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/api/ai/acme/v3/finetune", _gateway.ClientKeys["team-a"], "{}"));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden, "forbidden", "POST /api/ai/acme/v3/finetune");
        Assert.That(_acme.LogEntries, Is.Empty);
    }

    [Test]
    public async Task Generate_ThroughTheAlias_IsShapedForAcme_AndAnsweredInTheInternalSchema()
    {
        _acme.Given(Request.Create().WithPath("/v3/generate").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(Answer));

        using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/ai/generate", _gateway.ClientKeys["team-a"],
            """{"prompt":"Review the invoice.","model":"anvil","temperature":1.2,"max_tokens":64}"""));
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        var body = JsonDocument.Parse(text).RootElement;
        var sent = JsonDocument.Parse(_acme.LogEntries.Single().RequestMessage!.Body!).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(sent.GetProperty("model").GetString(), Is.EqualTo("acme-2"));
            Assert.That(sent.GetProperty("turns")[0].GetProperty("speaker").GetString(), Is.EqualTo("human"));
            Assert.That(sent.GetProperty("turns")[0].GetProperty("text").GetString(), Does.Contain("Review the invoice."));
            Assert.That(sent.GetProperty("limit").GetInt32(), Is.EqualTo(64));
            Assert.That(sent.GetProperty("heat").GetDouble(), Is.EqualTo(1.2), "above 1.0, which acme accepts");
            Assert.That(body.GetProperty("output").GetString(), Is.EqualTo("Invoice review requested."));
            Assert.That(body.GetProperty("provider").GetString(), Is.EqualTo("acme"));
            Assert.That(body.GetProperty("model").GetString(), Is.EqualTo("acme-2-0925"));
            Assert.That(body.GetProperty("finish_reason").GetString(), Is.EqualTo("stop"));
            Assert.That(body.GetProperty("usage").GetProperty("input_tokens").GetInt32(), Is.EqualTo(31));
            Assert.That(body.GetProperty("usage").GetProperty("output_tokens").GetInt32(), Is.EqualTo(5));
            Assert.That(body.GetProperty("cost_usd").GetDecimal(), Is.EqualTo((31 * 1.0m + 5 * 2.0m) / 1_000_000m));
        });
    }

    [Test]
    public async Task Generate_AboveAcmesTemperature_ListsTheFault_WithoutCallingIt()
    {
        using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/ai/generate", _gateway.ClientKeys["team-a"],
            """{"prompt":"Hi","model":"acme/acme-2","temperature":1.8}"""));
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed", "POST /v1/ai/generate");
        Assert.That(problem.ToString(), Does.Contain("temperature"));
        Assert.That(_acme.LogEntries, Is.Empty);
    }

    [Test]
    public async Task Generate_Streamed_TranslatesAcmeEventsIntoTheInternalStream()
    {
        _acme.Given(Request.Create().WithPath("/v3/generate").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(string.Concat(StreamEvents)));

        using var response = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/ai/generate", _gateway.ClientKeys["team-a"],
            """{"prompt":"Review the invoice.","model":"anvil","stream":true}"""), HttpCompletionOption.ResponseHeadersRead);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var reader = new InternalEvents(await response.Content.ReadAsStreamAsync());
        var all = await reader.ReadToEndAsync();
        Assert.Multiple(() =>
        {
            Assert.That(JsonDocument.Parse(_acme.LogEntries.Single().RequestMessage!.Body!).RootElement.GetProperty("stream").GetBoolean(), Is.True);
            Assert.That(reader.Text, Is.EqualTo("Invoice review requested."));
            Assert.That(all.Select(e => e.Name).SkipWhile(n => n == "delta"), Is.EqualTo(new[] { "usage", "done" }));
            Assert.That(all.Single(e => e.Name == "usage").Data.GetProperty("input_tokens").GetInt32(), Is.EqualTo(31));
            Assert.That(all.Single(e => e.Name == "done").Data.GetProperty("provider").GetString(), Is.EqualTo("acme"));
        });
    }
}
