using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Secrets;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry.Trace;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// Vendor keys from AWS Secrets Manager (<c>aws-sm:</c>) on a running gateway, against an emulated Secrets Manager that
/// answers only correctly signed calls, with credentials from the environment, a web identity (IRSA) and the container
/// credentials endpoint; rotation, Secrets Manager's errors, and no secret in any log line at Trace level.
/// </summary>
public sealed class AwsSecretsManagerTests
{
    private const string SecretId = "ai/openai";
    private const string Reference = "aws-sm:" + SecretId + "#api_key";
    private const string OldKey = "sk-proj-aws-sm-key-version-one-0001";
    private const string NewKey = "sk-proj-aws-sm-key-version-two-0002";
    private const string NewerKey = "sk-proj-aws-sm-key-version-three-03";
    private const string WebIdentityToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkVYQU1QTEUifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YWk6YWktZ2F0ZXdheSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
    private const string ContainerToken = "eks-pod-identity-authorization-token-000001";
    private const string SessionToken = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken0000000000000000001";
    private const string SessionSecret = "tEmPoRaRySeCrEtAcCeSsKeY0000000000EXAMPLE";
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(30);

    private FakeVendors _vendors = null!;
    private FakeAws _aws = null!;
    private FakeTimeProvider _time = null!;
    private GatewayHost? _gateway;
    private string _directory = null!;
    private readonly SpanCollector _spans = new();

    private static readonly string[] Secrets = [OldKey, NewKey, NewerKey, FakeAws.SecretAccessKey, SessionSecret, SessionToken, WebIdentityToken, ContainerToken];

    // Errors, readiness, spans and log lines carry references and causes, never a value.
    private static string WithoutSecrets(string text)
    {
        Assert.That(Secrets.Where(s => text.Contains(s, StringComparison.Ordinal)), Is.Empty, text);
        return text;
    }

    [SetUp]
    public void SetUp()
    {
        _vendors = new FakeVendors();
        _aws = new FakeAws();
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        _directory = Directory.CreateTempSubdirectory("aws-").FullName;
        VendorAccepts(OldKey, NewKey, NewerKey);
    }

    [TearDown]
    public async Task TearDown()
    {
        try
        {
            if (_gateway is not null)
            {
                // Stopped first: its pollers and exporter keep adding log lines and spans while it runs (enumerating the
                // span list then failed once in CI with "Collection was modified").
                await _gateway.DisposeAsync();

                // No secret, credential or token in any log line at Trace level, nor in any span, whatever the test did.
                Assert.That(_gateway.Logs.Entries.Where(e => Secrets.Any(s => e.Contains(s, StringComparison.Ordinal))), Is.Empty);
                Assert.That(_gateway.Logs.Entries, Is.Not.Empty, "logs were captured");
                Assert.That(_spans.Where(a => a.DisplayName.StartsWith("POST", StringComparison.Ordinal)), Is.Not.Empty, "spans were captured");
                foreach (var span in _spans)
                {
                    WithoutSecrets(span.DisplayName + " " + string.Join(" ", span.TagObjects.Select(t => $"{t.Key}={t.Value}"))
                        + string.Join(" ", span.Events.SelectMany(e => e.Tags.Select(t => $"{t.Key}={t.Value}"))));
                }
            }
        }
        finally
        {
            _aws.Dispose();
            _vendors.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static Dictionary<string, string> EnvironmentCredentials() => new()
    {
        ["AWS_ACCESS_KEY_ID"] = FakeAws.AccessKeyId, ["AWS_SECRET_ACCESS_KEY"] = FakeAws.SecretAccessKey, ["AWS_REGION"] = FakeAws.Region,
    };

    // Spans are recorded only when exported (an OTLP endpoint is set): one that nobody reads, so the in-memory exporter sees them.
    private void ExportSpans(JsonObject overrides)
    {
        overrides["OTEL_EXPORTER_OTLP_ENDPOINT"] = _aws.Endpoint + "/otlp";
        overrides["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
    }

    // openai's key from Secrets Manager, the emulated endpoints, polls on the test's clock, spans captured; then the
    // test's own changes to the overrides.
    private async Task StartAsync(Dictionary<string, string> variables, Action<JsonNode>? edit = null)
    {
        var environment = new FakeAws.Environment(variables);
        _gateway = await GatewayHost.StartAsync(_vendors.Addresses, editOverrides: o =>
        {
            var gateway = o["Gateway"]!;
            gateway["Providers"]!["openai"]!["ApiKey"] = Reference;
            gateway["Aws"] = new JsonObject { ["SecretsManagerEndpoint"] = _aws.Endpoint, ["StsEndpoint"] = _aws.Endpoint + FakeAws.StsPath };
            gateway["Secrets"] = new JsonObject { ["PollInterval"] = PollInterval.ToString("c"), ["Jitter"] = 0.1 };
            ExportSpans(o);
            edit?.Invoke(gateway);
        }, configure: b =>
        {
            b.Services.AddSingleton<TimeProvider>(_time);
            b.Services.AddSingleton<AwsEnvironment>(environment);
            b.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(_spans));
        });
        await WaitForPollAsync(0);
    }

    private SecretPoller Poller => _gateway!.Services.GetRequiredService<SecretPoller>();

    private Task WaitForPollAsync(int after) => Poller.WaitForPollAsync(after);

    /// <summary>Moves the clock one poll on (Secrets Manager then signs for the new time) and waits for that poll.</summary>
    private async Task PollOnceAsync(Action<DateTimeOffset> serve)
    {
        var before = Poller.Cycles;
        var next = _time.GetUtcNow() + PollInterval * 1.11;
        serve(next);
        _time.Advance(PollInterval * 1.11);
        await WaitForPollAsync(before);
    }

    private void Serve(string key, string version, DateTimeOffset signedAt, int priority = 10, string? accessKeyId = null, string? secret = null, string? token = null)
        => _aws.Secret(SecretId, new JsonObject { ["api_key"] = key, ["organization"] = "org-ai-platform" }.ToJsonString(), version, signedAt,
            accessKeyId ?? FakeAws.AccessKeyId, secret ?? FakeAws.SecretAccessKey, token, priority: priority);

    private void VendorAccepts(params string[] keys)
    {
        _vendors.OpenAi.Reset();
        _vendors.OpenAi.Given(Request.Create().UsingPost()).AtPriority(5)
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json")
                .WithBody(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "openai/golden/error-401.json"))));
        foreach (var key in keys)
        {
            _vendors.OpenAi.Given(Request.Create().UsingPost().WithHeader("Authorization", "Bearer " + key)).AtPriority(1)
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        }
    }

    private async Task<HttpStatusCode> CallAsync()
    {
        using var response = await _gateway!.Client.SendAsync(_gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, _gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
        return response.StatusCode;
    }

    private IEnumerable<string> KeysSent() => _vendors.OpenAi.LogEntries.Select(e => e.RequestMessage!.Headers!["Authorization"].Single()["Bearer ".Length..]);

    private async Task<(HttpStatusCode Status, string Body)> ReadinessAsync()
    {
        using var response = await _gateway!.Client.GetAsync("/healthz/ready");
        return (response.StatusCode, WithoutSecrets(await response.Content.ReadAsStringAsync()));
    }

    private async Task<string> ProblemDetailAsync()
    {
        using var response = await _gateway!.Client.SendAsync(_gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, _gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
        var body = WithoutSecrets(await response.Content.ReadAsStringAsync());
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), body);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.That(problem.GetProperty("code").GetString(), Is.EqualTo("vendor_key_missing"));
        return problem.GetProperty("detail").GetString()!;
    }

    [Test]
    public async Task EnvironmentCredentials_TheSignedGetSecretValueCall_ServesTheKeyFromItsJsonField()
    {
        Serve(OldKey, "v-0001", _time.GetUtcNow());
        await StartAsync(EnvironmentCredentials());

        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(KeysSent(), Is.EqualTo(new[] { OldKey }));
        var call = _aws.SecretCalls.Last().RequestMessage!;
        Assert.Multiple(() =>
        {
            Assert.That(call.Headers!["Authorization"].Single(), Is.EqualTo(_aws.ExpectedAuthorization(
                """{"SecretId":"ai/openai","VersionStage":"AWSCURRENT"}""", _time.GetUtcNow(), FakeAws.AccessKeyId, FakeAws.SecretAccessKey, null)));
            Assert.That(call.Headers["X-Amz-Target"].Single(), Is.EqualTo("secretsmanager.GetSecretValue"));
            Assert.That(call.Headers["Content-Type"].Single(), Is.EqualTo("application/x-amz-json-1.1"));
            Assert.That(call.Headers.ContainsKey("X-Amz-Security-Token"), Is.False);
        });
        Assert.That((await ReadinessAsync()).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Rotation_AwsCurrentChanges_AVendor401ForcesAReread_TheNextPollPicksItUp_AndNoRequestFails()
    {
        Serve(OldKey, "v-0001", _time.GetUtcNow());
        await StartAsync(EnvironmentCredentials());
        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));

        // The rotation moves AWSCURRENT to a new version, and the vendor drops the old key at once.
        Serve(NewKey, "v-0002", _time.GetUtcNow(), priority: 9);
        VendorAccepts(NewKey, NewerKey);
        _vendors.OpenAi.ResetLogEntries();
        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK), "the 401 was held back, the key re-read, the call sent again");
        Assert.That(KeysSent(), Is.EqualTo(new[] { OldKey, NewKey }));

        // The next rotation is picked up by the poll, before any vendor refuses anything.
        await PollOnceAsync(at => Serve(NewerKey, "v-0003", at, priority: 8));
        _vendors.OpenAi.ResetLogEntries();
        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(KeysSent(), Is.EqualTo(new[] { NewerKey }));
        Assert.That(_gateway!.Logs.Contains($"Secret {Reference} rotated (version v-0003)"), Is.True);
    }

    [Test]
    public async Task AwsPendingStage_IsReadAsNamed_SoARotationCanOverlapTwoKeys()
    {
        var now = _time.GetUtcNow();
        Serve(OldKey, "v-0001", now);
        _aws.Secret(SecretId, new JsonObject { ["api_key"] = NewKey }.ToJsonString(), "v-0002", now, stage: "AWSPENDING");
        await StartAsync(EnvironmentCredentials(), gateway =>
        {
            var openai = gateway["Providers"]!["openai"]!.AsObject();
            openai.Remove("ApiKey");
            openai["ApiKeys"] = new JsonArray(Reference, Reference + "@AWSPENDING");
        });

        // The vendor already refuses the current key: failover moves to the pending one.
        VendorAccepts(NewKey);
        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(KeysSent(), Is.EqualTo(new[] { OldKey, NewKey }));
    }

    [Test]
    public async Task WebIdentity_TheTokenFileIsExchangedWithSts_AndTheSessionCredentialsSignTheCall()
    {
        const string role = "arn:aws:iam::123456789012:role/ai-gateway";
        var tokenFile = Path.Combine(_directory, "token");
        File.WriteAllText(tokenFile, WebIdentityToken + "\n");
        _aws.WebIdentity(role, WebIdentityToken, "ASIAWEBIDENTITY00001", SessionSecret, SessionToken, _time.GetUtcNow().AddHours(1));
        Serve(OldKey, "v-0001", _time.GetUtcNow(), accessKeyId: "ASIAWEBIDENTITY00001", secret: SessionSecret, token: SessionToken);
        await StartAsync(new() { ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile, ["AWS_ROLE_ARN"] = role, ["AWS_REGION"] = FakeAws.Region });

        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(_aws.Server.LogEntries.Count(e => e.RequestMessage!.Path == FakeAws.StsPath), Is.EqualTo(1));

        // Within the credentials' lifetime, polls reuse them; five minutes before they expire, new ones are fetched.
        await PollOnceAsync(at => Serve(OldKey, "v-0001", at, accessKeyId: "ASIAWEBIDENTITY00001", secret: SessionSecret, token: SessionToken));
        Assert.That(_aws.Server.LogEntries.Count(e => e.RequestMessage!.Path == FakeAws.StsPath), Is.EqualTo(1));
        // 54 minutes on (the poll this wakes still finds the credentials fresh), then one poll past the renewal point.
        var before = Poller.Cycles;
        _time.Advance(TimeSpan.FromMinutes(54));
        await WaitForPollAsync(before);
        Assert.That(_aws.Server.LogEntries.Count(e => e.RequestMessage!.Path == FakeAws.StsPath), Is.EqualTo(1));
        await PollOnceAsync(at => Serve(NewKey, "v-0002", at, accessKeyId: "ASIAWEBIDENTITY00001", secret: SessionSecret, token: SessionToken));
        Assert.That(_aws.Server.LogEntries.Count(e => e.RequestMessage!.Path == FakeAws.StsPath), Is.EqualTo(2));
        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(KeysSent().Last(), Is.EqualTo(NewKey));
    }

    [Test]
    public async Task ContainerCredentialsEndpoint_WithTheAuthorizationTokenFile_SignsTheCall()
    {
        var tokenFile = Path.Combine(_directory, "eks-pod-identity-token");
        File.WriteAllText(tokenFile, ContainerToken);
        _aws.Container(ContainerToken, "ASIACONTAINER0000001", SessionSecret, SessionToken, _time.GetUtcNow().AddHours(6));
        Serve(OldKey, "v-0001", _time.GetUtcNow(), accessKeyId: "ASIACONTAINER0000001", secret: SessionSecret, token: SessionToken);
        await StartAsync(new()
        {
            ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = _aws.Endpoint + FakeAws.ContainerPath,
            ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = tokenFile,
            ["AWS_REGION"] = FakeAws.Region,
        });

        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(KeysSent(), Is.EqualTo(new[] { OldKey }));
    }

    [Test]
    public async Task InstanceMetadata_IsTheLastSource_AndItsRoleCredentialsSignTheCall()
    {
        _aws.InstanceMetadata("ai-gateway-instance", "ASIAINSTANCE00000001", SessionSecret, SessionToken, _time.GetUtcNow().AddHours(6));
        Serve(OldKey, "v-0001", _time.GetUtcNow(), accessKeyId: "ASIAINSTANCE00000001", secret: SessionSecret, token: SessionToken);
        await StartAsync(new() { ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = _aws.Endpoint, ["AWS_REGION"] = FakeAws.Region });

        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(KeysSent(), Is.EqualTo(new[] { OldKey }));
    }

    [Test]
    public async Task UnreachableSecretsManager_IsAClearError()
    {
        using var closed = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        _aws.Server.Stop();
        await StartAsync(EnvironmentCredentials(), gateway => gateway["Aws"]!["SecretsManagerEndpoint"] = $"http://127.0.0.1:{port}");
        Assert.That(await ProblemDetailAsync(), Does.Contain($"{Reference}: Secrets Manager cannot be reached (ConnectionError)"));
    }

    [TestCase("ResourceNotFoundException", "Secrets Manager can't find the specified secret.", "(no such secret, or no version at stage AWSCURRENT)")]
    [TestCase("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/ai-gateway/ai-gateway is not authorized to perform: secretsmanager:GetSecretValue", "(the credentials may not call secretsmanager:GetSecretValue on it, or decrypt it)")]
    [TestCase("ThrottlingException", "Rate exceeded", "(throttled; the last good value keeps serving and the next poll tries again)")]
    public async Task SecretsManagerErrors_AreClearReadinessAndCallErrors_NamingTheReference(string type, string message, string advice)
    {
        _aws.Fails(type, message);
        await StartAsync(EnvironmentCredentials());

        var expected = $"{Reference}: Secrets Manager answered {type} {advice}: {message}";
        Assert.That(await ProblemDetailAsync(), Does.Contain(expected));
        var (status, body) = await ReadinessAsync();
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), "the other providers serve: " + body);
        Assert.That(body, Does.Contain("without a key yet: openai").And.Contain(type));
        Assert.That(_vendors.OpenAi.LogEntries, Is.Empty);
    }

    [Test]
    public async Task Throttled_AfterAGoodRead_TheLastGoodValueKeepsServing_AndReadinessSaysSo()
    {
        Serve(OldKey, "v-0001", _time.GetUtcNow());
        await StartAsync(EnvironmentCredentials());
        await PollOnceAsync(_ => _aws.Fails("ThrottlingException", "Rate exceeded", priority: 1));

        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(KeysSent(), Is.EqualTo(new[] { OldKey }));
        var (status, body) = await ReadinessAsync();
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Does.Contain("Degraded").And.Contain("Serving the last good value of: " + Reference).And.Contain("ThrottlingException"));
    }

    [TestCase("plain-text-not-json", "aws-sm:ai/openai#api_key: the secret is not JSON, so it has no field 'api_key'")]
    [TestCase("""["a","b"]""", "aws-sm:ai/openai#api_key: the secret is not a JSON object, so it has no field 'api_key'")]
    [TestCase("""{"key":"x","org":"y"}""", "aws-sm:ai/openai#api_key: the secret has no field 'api_key' (its fields: key, org)")]
    public async Task ASecretThatHasNoSuchField_IsAClearError_WithoutItsValue(string secretString, string expected)
    {
        _aws.Secret(SecretId, secretString, "v-0001", _time.GetUtcNow());
        await StartAsync(EnvironmentCredentials());
        Assert.That(await ProblemDetailAsync(), Does.Contain(expected));
    }

    [Test]
    public async Task MissingOrIncompleteCredentials_AndAnUnknownRegion_AreClearErrors()
    {
        await StartAsync(new() { ["AWS_REGION"] = FakeAws.Region, ["AWS_EC2_METADATA_DISABLED"] = "true" });
        Assert.That(await ProblemDetailAsync(), Does.Contain($"{Reference} cannot be read: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));
        await _gateway!.DisposeAsync();

        await StartAsync(new() { ["AWS_ACCESS_KEY_ID"] = FakeAws.AccessKeyId, ["AWS_REGION"] = FakeAws.Region });
        Assert.That(await ProblemDetailAsync(), Does.Contain($"{Reference} cannot be read: AWS credentials from the environment are incomplete: AWS_SECRET_ACCESS_KEY is not set"));
        await _gateway.DisposeAsync();

        var unknownRegion = EnvironmentCredentials();
        unknownRegion["AWS_REGION"] = "eu-west-9";
        await StartAsync(unknownRegion);
        Assert.That(await ProblemDetailAsync(), Does.Contain($"{Reference}: 'eu-west-9' is not an AWS region (e.g. us-east-1, eu-west-1)"));
        Assert.That(_aws.SecretCalls, Is.Empty);
    }

    [Test]
    public async Task ExpiredCredentials_AreDroppedWhenSecretsManagerRefusesThem_AndTheNextReadFetchesNewOnes()
    {
        const string role = "arn:aws:iam::123456789012:role/ai-gateway";
        var tokenFile = Path.Combine(_directory, "token");
        File.WriteAllText(tokenFile, WebIdentityToken);
        _aws.WebIdentity(role, WebIdentityToken, "ASIAWEBIDENTITY00001", SessionSecret, SessionToken, _time.GetUtcNow().AddHours(1));
        Serve(OldKey, "v-0001", _time.GetUtcNow(), accessKeyId: "ASIAWEBIDENTITY00001", secret: SessionSecret, token: SessionToken);
        await StartAsync(new() { ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile, ["AWS_ROLE_ARN"] = role, ["AWS_REGION"] = FakeAws.Region });

        // AWS revokes the session early: Secrets Manager says the token expired.
        await PollOnceAsync(_ => _aws.Fails("ExpiredTokenException", "The security token included in the request is expired", priority: 1));
        Assert.That(await ReadinessAsync() is var (_, body) && body.Contains("ExpiredTokenException", StringComparison.Ordinal), Is.True);
        _aws.Server.ResetMappings();
        _aws.WebIdentity(role, WebIdentityToken, "ASIAWEBIDENTITY00001", SessionSecret, SessionToken, _time.GetUtcNow().AddHours(2));
        await PollOnceAsync(at => Serve(NewKey, "v-0002", at, accessKeyId: "ASIAWEBIDENTITY00001", secret: SessionSecret, token: SessionToken));
        Assert.That(_aws.Server.LogEntries.Count(e => e.RequestMessage!.Path == FakeAws.StsPath), Is.EqualTo(2), "new credentials asked for");
        Assert.That(await CallAsync(), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(KeysSent().Last(), Is.EqualTo(NewKey));
    }
}
