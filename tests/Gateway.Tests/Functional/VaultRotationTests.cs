using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Secrets;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>Vendor keys from Vault on a running gateway: rotation without restart, Vault failures, vendor-401 recovery, readiness.</summary>
public sealed class VaultRotationTests
{
    private const string OldKey = "sk-proj-vault-key-version-one-0001";
    private const string NewKey = "sk-proj-vault-key-version-two-0002";
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);
    private FakeVendors _vendors = null!;
    private FakeVault _vault = null!;
    private FakeTimeProvider _time = null!;
    private GatewayHost _gateway = null!;
    private string _tokenVariable = null!;

    [SetUp]
    public void SetUp()
    {
        _vendors = new FakeVendors();
        _vault = new FakeVault();
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _tokenVariable = "GWTEST_VAULT_TOKEN_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(_tokenVariable, FakeVault.RootToken);
        _vault.SecretInState("v1", OldKey, 1);
        _vault.SecretInState("v2", NewKey, 2);
        _vault.FailInState("sealed", 503, FakeVault.Sealed);
        _vault.FailInState("forbidden", 403, FakeVault.PermissionDenied);
        _vault.Server.Given(Request.Create().WithPath("/v1/secret/data/ai/openai").UsingGet()).InScenario(FakeVault.Scenario).WhenStateIs("slow").WillSetStateTo("slow")
            .RespondWith(FakeVault.Json(200, FakeVault.KvV2("api_key", NewKey, 2)).WithDelay(TimeSpan.FromSeconds(3)));
        _vault.Server.Given(Request.Create().WithPath("/v1/secret/data/ai/openai").UsingGet()).InScenario(FakeVault.Scenario).WhenStateIs("reset").WillSetStateTo("reset")
            .RespondWith(Response.Create().WithFault(WireMock.ResponseBuilders.FaultType.EMPTY_RESPONSE));
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        Environment.SetEnvironmentVariable(_tokenVariable, null);
        _vault.Dispose();
        _vendors.Dispose();
    }

    private async Task StartGatewayAsync(bool resiliencePipeline = true, bool strictReadiness = false)
    {
        _gateway = await GatewayHost.StartAsync(_vendors.Addresses, editOverrides: o =>
        {
            var gateway = o["Gateway"]!;
            if (!resiliencePipeline)
            {
                gateway["Resilience"] = new JsonObject { ["Enabled"] = false };
            }

            gateway["Providers"]!["openai"]!["ApiKey"] = "vault:secret/ai/openai#api_key";
            gateway["Vault"] = new JsonObject { ["Address"] = _vault.Address, ["Token"] = "env:" + _tokenVariable, ["Timeout"] = "00:00:00.500" };
            gateway["Secrets"] = new JsonObject { ["PollInterval"] = PollInterval.ToString("c"), ["Jitter"] = 0.1, ["StrictReadiness"] = strictReadiness };
        }, configure: b => b.Services.AddSingleton<TimeProvider>(_time));
        await WaitForPollAsync(0);
    }

    private SecretPoller Poller => _gateway.Services.GetRequiredService<SecretPoller>();

    private Task WaitForPollAsync(int after) => Poller.WaitForPollAsync(after);

    /// <summary>Moves the fake clock past one poll interval (and its jitter) and waits for that poll to finish.</summary>
    private async Task PollOnceAsync()
    {
        var before = Poller.Cycles;
        _time.Advance(PollInterval * 1.11);
        await WaitForPollAsync(before);
    }

    /// <summary>
    /// As <see cref="PollOnceAsync"/>, for a Vault that answers late: the Vault call's timeout runs on the same fake
    /// clock, so the clock is moved on in small steps until the poll has given up on Vault.
    /// </summary>
    private async Task PollOnceWithSlowVaultAsync()
    {
        var before = Poller.Cycles;
        _time.Advance(PollInterval * 1.11);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Poller.Cycles <= before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.That(Poller.Cycles, Is.GreaterThan(before), "the poll finished");
    }

    private void VendorAccepts(params string[] keys)
    {
        _vendors.OpenAi.Reset();
        _vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .AtPriority(5)
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json").WithBody(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "openai/golden/error-401.json"))));
        foreach (var key in keys)
        {
            _vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost().WithHeader("Authorization", "Bearer " + key))
                .AtPriority(1)
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        }
    }

    private Task<HttpResponseMessage> CallAsync(string path = "/api/ai/openai/v1/chat/completions")
        => _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, path, _gateway.ClientKeys["team-a"],
            path.StartsWith("/v1/ai", StringComparison.Ordinal) ? """{"prompt":"Hi"}""" : VendorCase.OpenAi.RequestBody));

    private string LastKeySent() => _vendors.OpenAi.LogEntries.Last().RequestMessage!.Headers!["Authorization"].Single()["Bearer ".Length..];

    private async Task<JsonElement> ReadinessAsync()
    {
        using var response = await _gateway.Client.GetAsync("/healthz/ready");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Test]
    public async Task RotationInVault_ReachesTheNextRequestWithinOnePollInterval_WithNoFailedRequest()
    {
        VendorAccepts(OldKey, NewKey);
        await StartGatewayAsync();
        using (var before = await CallAsync())
        {
            Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(LastKeySent(), Is.EqualTo(OldKey));

        _vault.State("v2");
        for (var i = 0; i < 3; i++)
        {
            using var between = await CallAsync();
            Assert.That(between.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the old key keeps working until the poll");
            Assert.That(LastKeySent(), Is.EqualTo(OldKey));
        }

        await PollOnceAsync();
        using var after = await CallAsync();
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(LastKeySent(), Is.EqualTo(NewKey), "no restart needed");
        Assert.That(_gateway.Logs.Contains("Secret vault:secret/ai/openai#api_key rotated (version 2)"));
    }

    [TestCase("sealed", "Vault is sealed")]
    [TestCase("forbidden", "403")]
    [TestCase("slow", "did not answer")]
    [TestCase("reset", "vault:secret/ai/openai#api_key")]
    public async Task VaultFailing_RequestsKeepTheLastGoodKey_AndReadinessReportsIt(string state, string reported)
    {
        VendorAccepts(OldKey);
        await StartGatewayAsync();
        var failures = new List<(long Value, string? Reference)>();
        using var meters = new System.Diagnostics.Metrics.MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "gateway.secret.read.failures")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            lock (failures)
            {
                failures.Add((value, tags.ToArray().Single(t => t.Key == "secret.reference").Value as string));
            }
        });
        meters.Start();
        _vault.State(state);
        await (state == "slow" ? PollOnceWithSlowVaultAsync() : PollOnceAsync());

        using (var response = await CallAsync())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(LastKeySent(), Is.EqualTo(OldKey));
        var readiness = await ReadinessAsync();
        var secrets = readiness.GetProperty("checks").GetProperty("secrets");
        Assert.That(secrets.GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        Assert.That(secrets.GetProperty("description").GetString(), Does.Contain("vault:secret/ai/openai#api_key").And.Contain(reported).And.Not.Contain(OldKey));
        lock (failures)
        {
            Assert.That(failures, Has.Some.EqualTo((1L, (string?)"vault:secret/ai/openai#api_key")), "the failure is counted");
        }

        _vault.State("v1");
        await PollOnceAsync();
        Assert.That((await ReadinessAsync()).GetProperty("checks").GetProperty("secrets").GetProperty("status").GetString(), Is.EqualTo("Healthy"));
    }

    [Test]
    public async Task StrictReadiness_FailsUntilEverySecretIsResolved_NamingTheReference()
    {
        _vault.State("sealed");
        VendorAccepts(OldKey);
        await StartGatewayAsync(strictReadiness: true);

        using (var notReady = await _gateway.Client.GetAsync("/healthz/ready"))
        {
            var body = await notReady.Content.ReadAsStringAsync();
            Assert.That(notReady.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(body, Does.Contain("Not resolved yet").And.Contain("vault:secret/ai/openai#api_key").And.Contain("Vault is sealed"));
        }

        _vault.State("v1");
        await PollOnceAsync();
        using var ready = await _gateway.Client.GetAsync("/healthz/ready");
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    // The key recovery is the resilience pipeline's first strategy, and stays when the rest is turned off.
    [TestCase("/api/ai/openai/v1/chat/completions", true)]
    [TestCase("/v1/ai/generate", true)]
    [TestCase("/api/ai/openai/v1/chat/completions", false)]
    [TestCase("/v1/ai/generate", false)]
    public async Task Vendor401_KeyChangedInVault_OneReReadAndOneRetry(string path, bool resiliencePipeline)
    {
        VendorAccepts(NewKey);
        await StartGatewayAsync(resiliencePipeline);
        _vault.State("v2");
        var readsBefore = _vault.Calls("/v1/secret/data/ai/openai");

        using var response = await CallAsync(path);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That(_vault.Calls("/v1/secret/data/ai/openai") - readsBefore, Is.EqualTo(1), "one re-read");
        var sent = _vendors.OpenAi.LogEntries.Select(e => e.RequestMessage!.Headers!["Authorization"].Single()).ToList();
        Assert.That(sent, Is.EqualTo(new[] { "Bearer " + OldKey, "Bearer " + NewKey }), "one retry, with the new key");
        Assert.That(_vendors.OpenAi.LogEntries.Select(e => e.RequestMessage!.Body).Distinct().Count(), Is.EqualTo(1), "the same body both times");
        Assert.That(response.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "2" }));
    }

    [TestCase("/api/ai/openai/v1/chat/completions")]
    [TestCase("/v1/ai/generate")]
    public async Task Vendor401_KeyUnchanged_NoRetry_VendorAuthFailed(string path)
    {
        VendorAccepts();
        await StartGatewayAsync();
        var readsBefore = _vault.Calls("/v1/secret/data/ai/openai");

        using var response = await CallAsync(path);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "vendor_auth_failed", "POST " + path);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("openai refused the gateway's key").And.Not.Contain(OldKey));
        Assert.That(_vault.Calls("/v1/secret/data/ai/openai") - readsBefore, Is.EqualTo(1));
        Assert.That(_vendors.OpenAi.LogEntries.Count(), Is.EqualTo(1), "no retry, no loop");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task FiftyConcurrent401s_CauseOneVaultRead(bool rotated)
    {
        VendorAccepts(rotated ? [NewKey] : []);
        await StartGatewayAsync();
        if (rotated)
        {
            _vault.State("v2");
        }

        var readsBefore = _vault.Calls("/v1/secret/data/ai/openai");
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await CallAsync();
            return response.StatusCode;
        }));

        Assert.That(_vault.Calls("/v1/secret/data/ai/openai") - readsBefore, Is.EqualTo(1));
        Assert.That(responses, Has.All.EqualTo(rotated ? HttpStatusCode.OK : HttpStatusCode.BadGateway));
    }
}
