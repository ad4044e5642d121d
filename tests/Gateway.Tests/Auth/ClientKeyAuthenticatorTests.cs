using Gateway.Auth;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Auth;

public sealed class ClientKeyAuthenticatorTests
{
    private readonly string _keyA = ClientKeyHasher.NewKey();
    private readonly string _keyB = ClientKeyHasher.NewKey();
    private GatewaySettingsMonitor _settings = null!;
    private ClientKeyAuthenticator _authenticator = null!;

    [SetUp]
    public void SetUp()
    {
        _settings = TestSettings.Monitor(new()
        {
            ["Gateway:Clients:team-a:KeySha256"] = ClientKeyHasher.HashHex(_keyA),
            ["Gateway:Clients:team-b:KeySha256"] = ClientKeyHasher.HashHex(_keyB).ToUpperInvariant(),
        });
        _authenticator = new ClientKeyAuthenticator(_settings);
    }

    [TearDown]
    public void TearDown() => _settings.Dispose();

    private string? Authenticate(params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }

        return _authenticator.Authenticate(context.Request)?.Id;
    }

    [Test]
    public void Bearer_KnownKey_FindsClient() => Assert.That(Authenticate(("Authorization", "Bearer " + _keyA)), Is.EqualTo("team-a"));

    [Test]
    public void Bearer_IsCaseInsensitiveScheme() => Assert.That(Authenticate(("Authorization", "bearer " + _keyA)), Is.EqualTo("team-a"));

    [Test]
    public void ApiKey_KnownKey_FindsClient_UppercaseHashInConfig() => Assert.That(Authenticate(("x-api-key", _keyB)), Is.EqualTo("team-b"));

    [Test]
    public void BasicAuthorization_FallsBackToApiKeyHeader()
        => Assert.That(Authenticate(("Authorization", "Basic abc"), ("x-api-key", _keyA)), Is.EqualTo("team-a"));

    [TestCase("")]
    [TestCase("Bearer ")]
    [TestCase("Bearer gwk_unknown")]
    [TestCase("Token abc")]
    public void Unknown_IsNull(string authorization) => Assert.That(Authenticate(("Authorization", authorization)), Is.Null);

    [Test]
    public void NoHeaders_IsNull() => Assert.That(Authenticate(), Is.Null);

    [Test]
    public void TwoAuthorizationHeaders_IsNull()
        => Assert.That(Authenticate(("Authorization", "Bearer " + _keyA), ("Authorization", "Bearer " + _keyB)), Is.Null);

    [Test]
    public void OverlongKey_IsNull() => Assert.That(Authenticate(("x-api-key", new string('a', ClientKeyHasher.MaxKeyLength + 1))), Is.Null);

    [Test]
    public void NonAsciiKey_IsNull() => Assert.That(Authenticate(("x-api-key", "ключ-🔑")), Is.Null);
}
