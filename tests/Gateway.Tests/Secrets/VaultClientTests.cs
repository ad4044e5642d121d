using System.Text.Json;
using Gateway.Hosting;
using Gateway.Secrets;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Secrets;

/// <summary>The documented Vault requests, sent exactly, and the documented answers, parsed: against a WireMock Vault.</summary>
public sealed class VaultClientTests
{
    private FakeVault _vault = null!;
    private FakeTimeProvider _time = null!;
    private string _directory = null!;
    private readonly List<IDisposable> _owned = [];

    [SetUp]
    public void SetUp()
    {
        _vault = new FakeVault();
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _directory = Directory.CreateTempSubdirectory("vault-").FullName;
        File.WriteAllText(Path.Combine(_directory, "token"), FakeVault.RootToken);
    }

    [TearDown]
    public void TearDown()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            foreach (var entry in _vault.Server.LogEntries)
            {
                TestContext.Out.WriteLine($"{entry.RequestMessage!.Method} {entry.RequestMessage.Path} -> {entry.ResponseMessage!.StatusCode} token={string.Join(",", entry.RequestMessage.Headers!.TryGetValue("X-Vault-Token", out var t) ? t : [])}");
            }
        }

        _owned.ForEach(o => o.Dispose());
        _owned.Clear();
        _vault.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private VaultClient Client(Dictionary<string, string?>? extra = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Gateway:Vault:Address"] = _vault.Address,
            ["Gateway:Vault:Token"] = "file:" + Path.Combine(_directory, "token"),
            ["Gateway:Vault:Timeout"] = "00:00:00.500",
        };
        foreach (var (key, value) in extra ?? [])
        {
            values[key] = value;
        }

        var settings = TestSettings.Monitor(values, _time);
        var client = new VaultClient(settings, _time, NullLogger<VaultClient>.Instance);
        _owned.Add(settings);
        _owned.Add(client);
        return client;
    }

    private static VaultSecretReference Ref(string text)
    {
        SecretReference.TryParse(text, out var reference, out _);
        return (VaultSecretReference)reference!;
    }

    private JsonElement BodyOf(string path) => JsonDocument.Parse(_vault.Server.LogEntries.Last(e => e.RequestMessage!.Path == path).RequestMessage!.Body!).RootElement;

    private string? HeaderOf(string path, string header)
        => _vault.Server.LogEntries.Last(e => e.RequestMessage!.Path == path).RequestMessage!.Headers!.TryGetValue(header, out var values) ? values.Single() : null;

    [Test]
    public async Task KvV2_TokenAuth_ReadsFieldAndVersion()
    {
        _vault.SecretInState("v1", "sk-from-vault-v3", 3);
        var secret = await Client().ReadAsync(Ref("vault:secret/ai/openai#api_key"), default);

        Assert.That(secret, Is.EqualTo(new SecretFetch("sk-from-vault-v3", "3")));
        Assert.That(HeaderOf("/v1/secret/data/ai/openai", "X-Vault-Token"), Is.EqualTo(FakeVault.RootToken));
        Assert.That(HeaderOf("/v1/secret/data/ai/openai", "X-Vault-Namespace"), Is.Null);
        Assert.That(_vault.Calls("/v1/auth/token/lookup-self"), Is.EqualTo(1), "the token's ttl is looked up once");
    }

    [Test]
    public async Task KvV1_PerMountSetting_ReadsTheV1Path()
    {
        _vault.Server.Given(Request.Create().WithPath("/v1/kv/teams/ai").UsingGet().WithHeader("X-Vault-Token", FakeVault.RootToken))
            .RespondWith(FakeVault.Json(200, FakeVault.KvV1("cohere", "co-from-kv1")));
        var secret = await Client(new() { ["Gateway:Vault:Mounts:kv:Version"] = "1" }).ReadAsync(Ref("vault:kv/teams/ai#cohere"), default);
        Assert.That(secret.Value, Is.EqualTo("co-from-kv1"));
    }

    [Test]
    public async Task Namespace_IsSentOnEveryRequest()
    {
        _vault.SecretInState("v1", "sk-ns", 1);
        await Client(new() { ["Gateway:Vault:Namespace"] = "platform/ai" }).ReadAsync(Ref("vault:secret/ai/openai#api_key"), default);
        Assert.That(_vault.Server.LogEntries.Select(e => e.RequestMessage!.Headers!["X-Vault-Namespace"].Single()), Has.All.EqualTo("platform/ai"));
    }

    [Test]
    public async Task AppRole_LogsInWithRoleIdAndSecretId_ThenUsesTheClientToken()
    {
        File.WriteAllText(Path.Combine(_directory, "role_id"), "db02de05-fa39-4855-059b-67221c5c2f63");
        File.WriteAllText(Path.Combine(_directory, "secret_id"), "6a174c20-f6de-a53c-74d2-6018fcceff64");
        _vault.Server.Given(Request.Create().WithPath("/v1/auth/approle/login").UsingPost())
            .RespondWith(FakeVault.Json(200, FakeVault.Login("hvs.approle-token-0001", 3600, true)));
        _vault.SecretInState("v1", "sk-approle", 1, token: "hvs.approle-token-0001");

        var secret = await Client(new()
        {
            ["Gateway:Vault:Auth:Method"] = "approle",
            ["Gateway:Vault:Auth:RoleId"] = "file:" + Path.Combine(_directory, "role_id"),
            ["Gateway:Vault:Auth:SecretId"] = "file:" + Path.Combine(_directory, "secret_id"),
        }).ReadAsync(Ref("vault:secret/ai/openai#api_key"), default);

        Assert.That(secret.Value, Is.EqualTo("sk-approle"));
        var login = BodyOf("/v1/auth/approle/login");
        Assert.That(login.EnumerateObject().Select(p => (p.Name, p.Value.GetString())),
            Is.EquivalentTo(new[] { ("role_id", "db02de05-fa39-4855-059b-67221c5c2f63"), ("secret_id", "6a174c20-f6de-a53c-74d2-6018fcceff64") }));
        Assert.That(HeaderOf("/v1/auth/approle/login", "X-Vault-Token"), Is.Null, "a login carries no token");
    }

    [Test]
    public async Task Kubernetes_ReadsTheJwtAtEveryLogin_AndLogsInAgainWhenNotRenewable()
    {
        var jwt = Path.Combine(_directory, "sa-token");
        File.WriteAllText(jwt, "eyJhbGciOiJSUzI1NiJ9.first.sig");
        _vault.Server.Given(Request.Create().WithPath("/v1/auth/kubernetes/login").UsingPost())
            .RespondWith(FakeVault.Json(200, FakeVault.Login("hvs.k8s-token-0001", 60, false)));
        _vault.SecretInState("v1", "sk-k8s", 1, token: "hvs.k8s-token-0001");
        var client = Client(new()
        {
            ["Gateway:Vault:Auth:Method"] = "kubernetes",
            ["Gateway:Vault:Auth:Role"] = "ai-gateway",
            ["Gateway:Vault:Auth:JwtPath"] = jwt,
        });

        await client.ReadAsync(Ref("vault:secret/ai/openai#api_key"), default);
        var first = BodyOf("/v1/auth/kubernetes/login");
        Assert.That(first.GetProperty("role").GetString(), Is.EqualTo("ai-gateway"));
        Assert.That(first.GetProperty("jwt").GetString(), Is.EqualTo("eyJhbGciOiJSUzI1NiJ9.first.sig"));

        File.WriteAllText(jwt, "eyJhbGciOiJSUzI1NiJ9.second.sig");
        _time.Advance(TimeSpan.FromSeconds(30));
        await client.ReadAsync(Ref("vault:secret/ai/openai#api_key"), default);
        Assert.That(_vault.Calls("/v1/auth/kubernetes/login"), Is.EqualTo(1), "still within two thirds of the lease");

        _time.Advance(TimeSpan.FromSeconds(11));
        await client.ReadAsync(Ref("vault:secret/ai/openai#api_key"), default);
        Assert.That(_vault.Calls("/v1/auth/kubernetes/login"), Is.EqualTo(2), "not renewable: a new login");
        Assert.That(BodyOf("/v1/auth/kubernetes/login").GetProperty("jwt").GetString(), Is.EqualTo("eyJhbGciOiJSUzI1NiJ9.second.sig"), "the rotated JWT");
    }

    [Test]
    public async Task RenewableToken_IsRenewedBeforeExpiry_NotReplaced()
    {
        File.WriteAllText(Path.Combine(_directory, "role_id"), "role");
        File.WriteAllText(Path.Combine(_directory, "secret_id"), "secret");
        _vault.Server.Given(Request.Create().WithPath("/v1/auth/approle/login").UsingPost())
            .RespondWith(FakeVault.Json(200, FakeVault.Login("hvs.approle-token-0002", 3600, true)));
        _vault.Server.Given(Request.Create().WithPath("/v1/auth/token/renew-self").UsingPost().WithHeader("X-Vault-Token", "hvs.approle-token-0002"))
            .RespondWith(FakeVault.Json(200, FakeVault.Login("hvs.approle-token-0002", 3600, true)));
        _vault.SecretInState("v1", "sk-renew", 1, token: "hvs.approle-token-0002");
        var client = Client(new()
        {
            ["Gateway:Vault:Auth:Method"] = "approle",
            ["Gateway:Vault:Auth:RoleId"] = "file:" + Path.Combine(_directory, "role_id"),
            ["Gateway:Vault:Auth:SecretId"] = "file:" + Path.Combine(_directory, "secret_id"),
        });

        await client.ReadAsync(Ref("vault:secret/ai/openai#api_key"), default);
        _time.Advance(TimeSpan.FromSeconds(2401));
        await client.ReadAsync(Ref("vault:secret/ai/openai#api_key"), default);

        Assert.That(_vault.Calls("/v1/auth/token/renew-self"), Is.EqualTo(1));
        Assert.That(_vault.Calls("/v1/auth/approle/login"), Is.EqualTo(1));
    }

    [Test]
    public async Task Forbidden_LogsInAgainOnce_AndRetries()
    {
        File.WriteAllText(Path.Combine(_directory, "role_id"), "role");
        File.WriteAllText(Path.Combine(_directory, "secret_id"), "secret");
        _vault.Server.Given(Request.Create().WithPath("/v1/auth/approle/login").UsingPost()).InScenario("login").WillSetStateTo("second")
            .RespondWith(FakeVault.Json(200, FakeVault.Login("hvs.revoked-token-01", 3600, true)));
        _vault.Server.Given(Request.Create().WithPath("/v1/auth/approle/login").UsingPost()).InScenario("login").WhenStateIs("second")
            .RespondWith(FakeVault.Json(200, FakeVault.Login("hvs.fresh-token-0002", 3600, true)));
        _vault.Server.Given(Request.Create().WithPath("/v1/secret/data/ai/openai").UsingGet().WithHeader("X-Vault-Token", "hvs.revoked-token-01"))
            .RespondWith(FakeVault.Json(403, FakeVault.PermissionDenied));
        _vault.SecretInState("v1", "sk-after-relogin", 1, token: "hvs.fresh-token-0002");
        var client = Client(new()
        {
            ["Gateway:Vault:Auth:Method"] = "approle",
            ["Gateway:Vault:Auth:RoleId"] = "file:" + Path.Combine(_directory, "role_id"),
            ["Gateway:Vault:Auth:SecretId"] = "file:" + Path.Combine(_directory, "secret_id"),
        });

        Assert.That((await client.ReadAsync(Ref("vault:secret/ai/openai#api_key"), default)).Value, Is.EqualTo("sk-after-relogin"));
        Assert.That(_vault.Calls("/v1/auth/approle/login"), Is.EqualTo(2));
    }

    [Test]
    public void Sealed_IsSecretUnavailable_WithVaultsMessage()
    {
        _vault.FailInState("v1", 503, FakeVault.Sealed);
        Assert.That(async () => await Client().ReadAsync(Ref("vault:secret/ai/openai#api_key"), default),
            Throws.TypeOf<SecretUnavailableException>().With.Message.Contains("503").And.Message.Contains("Vault is sealed"));
    }

    [Test]
    public void Timeout_IsSecretUnavailable()
    {
        _vault.Server.Given(Request.Create().WithPath("/v1/secret/data/ai/openai").UsingGet())
            .RespondWith(FakeVault.Json(200, FakeVault.KvV2("api_key", "late", 1)).WithDelay(TimeSpan.FromSeconds(2)));
        var client = new VaultClient(TestSettings.Monitor(new()
        {
            ["Gateway:Vault:Address"] = _vault.Address,
            ["Gateway:Vault:Token"] = "file:" + Path.Combine(_directory, "token"),
            ["Gateway:Vault:Timeout"] = "00:00:00.300",
        }), TimeProvider.System, NullLogger<VaultClient>.Instance);
        _owned.Add(client);
        Assert.That(async () => await client.ReadAsync(Ref("vault:secret/ai/openai#api_key"), default),
            Throws.TypeOf<SecretUnavailableException>().With.Message.Contains("did not answer"));
    }

    [Test]
    public void EmptyAnswer_IsSecretUnavailable()
    {
        _vault.Server.Given(Request.Create().WithPath("/v1/secret/data/ai/openai").UsingGet())
            .RespondWith(Response.Create().WithFault(FaultType.EMPTY_RESPONSE));
        Assert.That(async () => await Client().ReadAsync(Ref("vault:secret/ai/openai#api_key"), default),
            Throws.TypeOf<SecretUnavailableException>());
    }

    [Test]
    public void ConnectionRefused_IsSecretUnavailable()
    {
        var client = Client(new() { ["Gateway:Vault:Address"] = "http://127.0.0.1:9" });
        Assert.That(async () => await client.ReadAsync(Ref("vault:secret/ai/openai#api_key"), default),
            Throws.TypeOf<SecretUnavailableException>().With.Message.Contains("cannot be reached"));
    }

    [Test]
    public void MissingField_IsSecretUnavailable_NamingTheField()
    {
        _vault.SecretInState("v1", "x", 1, field: "other");
        Assert.That(async () => await Client().ReadAsync(Ref("vault:secret/ai/openai#api_key"), default),
            Throws.TypeOf<SecretUnavailableException>().With.Message.Contains("no string field 'api_key'"));
    }
}
