using Gateway.Auth;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;

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
        _authenticator = new ClientKeyAuthenticator(new ClientKeyTable(_settings), TimeProvider.System);
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

        return _authenticator.Authenticate(context.Request).Client?.Id;
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

    /// <summary>Requests on one HTTP/1.1 connection: the same connection items, a fresh request each time.</summary>
    private sealed class Connection(ClientKeyAuthenticator authenticator, string protocol = "HTTP/1.1") : IConnectionItemsFeature
    {
        public IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        public ClientKeyMatch Present(string name, string value)
        {
            var context = new DefaultHttpContext();
            context.Features.Set<IConnectionItemsFeature>(this);
            context.Request.Protocol = protocol;
            // A new string each time, as when Kestrel does not hand back the previous request's: compared, not just referenced.
            context.Request.Headers.Append(name, new string(value.AsSpan()));
            return authenticator.Authenticate(context.Request);
        }
    }

    [Test]
    public void OneConnection_SameKeyAgain_IsKnownWithoutHashing_AnotherKeyOrHeaderIsLookedUpAfresh()
    {
        var connection = new Connection(_authenticator);
        Assert.That(connection.Present("Authorization", "Bearer " + _keyA).Client?.Id, Is.EqualTo("team-a"));
        Assert.That(connection.Present("Authorization", "Bearer " + _keyA).Client?.Id, Is.EqualTo("team-a"));
        Assert.That(_authenticator.KeysHashed, Is.EqualTo(1), "the second request's key was known to its connection");

        // Another key on the same connection is that key's client, never the one the connection knew.
        Assert.That(connection.Present("Authorization", "Bearer " + _keyB).Client?.Id, Is.EqualTo("team-b"));
        Assert.That(connection.Present("Authorization", "Bearer " + _keyA[..^1] + (_keyA[^1] == 'x' ? 'y' : 'x')).Client, Is.Null, "one character off");
        // The same text in the other header is another key ("Bearer …" as a whole is no key).
        Assert.That(connection.Present("x-api-key", "Bearer " + _keyA).Client, Is.Null);
        Assert.That(connection.Present("x-api-key", _keyA).Client?.Id, Is.EqualTo("team-a"));
        Assert.That(_authenticator.KeysHashed, Is.EqualTo(5));

        // Every HTTP/2 stream hashes: streams share their connection's items concurrently.
        var http2 = new Connection(_authenticator, "HTTP/2");
        Assert.That(http2.Present("Authorization", "Bearer " + _keyA).Client?.Id, Is.EqualTo("team-a"));
        Assert.That(http2.Present("Authorization", "Bearer " + _keyA).Client?.Id, Is.EqualTo("team-a"));
        Assert.That(_authenticator.KeysHashed, Is.EqualTo(7));
    }

    [Test]
    public void OneConnection_KeyRemovedFromConfiguration_IsRefusedOnTheConnectionThatKnewIt()
    {
        var values = new Dictionary<string, string?> { ["Gateway:Clients:team-a:KeySha256"] = ClientKeyHasher.HashHex(_keyA) };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        using var settings = TestSettings.Reloadable(configuration);
        var authenticator = new ClientKeyAuthenticator(new ClientKeyTable(settings), TimeProvider.System);
        var connection = new Connection(authenticator);
        Assert.That(connection.Present("Authorization", "Bearer " + _keyA).Client?.Id, Is.EqualTo("team-a"));

        // team-a's key replaced (a reload): the key the connection knew no longer counts there either.
        configuration["Gateway:Clients:team-a:KeySha256"] = ClientKeyHasher.HashHex(_keyB);
        configuration.Reload();
        Assert.That(settings.Current.Clients.Single().Keys.Single().Hash, Is.EqualTo(Convert.FromHexString(ClientKeyHasher.HashHex(_keyB))), "the reload was taken");
        Assert.That(connection.Present("Authorization", "Bearer " + _keyA).Client, Is.Null);
        Assert.That(connection.Present("Authorization", "Bearer " + _keyB).Client?.Id, Is.EqualTo("team-a"));
    }

    [Test]
    public void OneConnection_KnownKeyPastItsNotAfter_IsExpired()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        using var settings = TestSettings.Monitor(new()
        {
            ["Gateway:Clients:team-a:Keys:0:Sha256"] = ClientKeyHasher.HashHex(_keyA),
            ["Gateway:Clients:team-a:Keys:0:NotAfter"] = "2026-11-28T12:30:00Z",
        });
        var authenticator = new ClientKeyAuthenticator(new ClientKeyTable(settings), time);
        var connection = new Connection(authenticator);
        Assert.That(connection.Present("Authorization", "Bearer " + _keyA).Expired, Is.False);
        time.Advance(TimeSpan.FromMinutes(31));
        var late = connection.Present("Authorization", "Bearer " + _keyA);
        Assert.That((late.Client?.Id, late.Expired, authenticator.KeysHashed), Is.EqualTo(("team-a", true, 1L)));
    }

    [Test]
    public async Task SeveralKeys_EachWorksUntilItsNotAfter_KeysFromASecretToo_AndLastUseIsKeptPerLabel()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        var (old, current, mounted, mountedOld) = (ClientKeyHasher.NewKey(), ClientKeyHasher.NewKey(), ClientKeyHasher.NewKey(), ClientKeyHasher.NewKey());
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, $"""
            # team-c's keys, mounted from a Kubernetes Secret
            {ClientKeyHasher.HashHex(mounted)} label=k8s-2026-11

            {ClientKeyHasher.HashHex(mountedOld)} notAfter=2026-11-28T13:00:00Z label=k8s-2026-10
            not-a-hash label=broken
            """);
        using var settings = TestSettings.Monitor(new()
        {
            ["Gateway:Clients:team-a:Keys:0:Sha256"] = ClientKeyHasher.HashHex(old),
            ["Gateway:Clients:team-a:Keys:0:NotAfter"] = "2026-11-28T12:30:00Z",
            ["Gateway:Clients:team-a:Keys:0:Label"] = "2026-10",
            ["Gateway:Clients:team-a:Keys:1:Sha256"] = ClientKeyHasher.HashHex(current),
            ["Gateway:Clients:team-c:KeysFrom"] = "file:" + file,
        });
        var cache = new Gateway.Secrets.SecretCache([new Gateway.Secrets.FileSecretSource()], settings, time, Microsoft.Extensions.Logging.Abstractions.NullLogger<Gateway.Secrets.SecretCache>.Instance);
        foreach (var reference in settings.Current.SecretReferences)
        {
            await cache.RefreshAsync(reference, CancellationToken.None);
        }

        var table = new ClientKeyTable(settings, cache);
        var authenticator = new ClientKeyAuthenticator(table, time);
        ClientKeyMatch Present(string key)
        {
            var context = new DefaultHttpContext();
            context.Request.Headers.Authorization = "Bearer " + key;
            return authenticator.Authenticate(context.Request);
        }

        // During the overlap both of team-a's keys work, and so do both mounted keys of team-c; a bad line is skipped.
        Assert.That(Present(old), Is.EqualTo(new ClientKeyMatch(settings.Current.Clients[0], settings.Current.Clients[0].Keys[0], false)));
        Assert.That((Present(current).Client?.Id, Present(current).Key?.Label, Present(current).Expired),
            Is.EqualTo(("team-a", "sha256:" + ClientKeyHasher.HashHex(current)[..8], false)), "no label: the hash's first characters");
        Assert.That((Present(mounted).Client?.Id, Present(mounted).Key?.Label, Present(mounted).Expired), Is.EqualTo(("team-c", "k8s-2026-11", false)));
        Assert.That((Present(mountedOld).Client?.Id, Present(mountedOld).Expired), Is.EqualTo(("team-c", false)));
        var keyOld = Present(old).Key!;
        Assert.That(keyOld.LastUsed, Is.EqualTo(time.GetUtcNow().ToUnixTimeSeconds()));

        // Past NotAfter: still recognised (so the caller hears it expired), no longer counted as used.
        time.Advance(TimeSpan.FromMinutes(30));
        var expired = Present(old);
        Assert.That((expired.Client?.Id, expired.Key?.Label, expired.Expired), Is.EqualTo(("team-a", "2026-10", true)));
        Assert.That(expired.Key!.LastUsed, Is.EqualTo(time.GetUtcNow().ToUnixTimeSeconds() - 1800));
        Assert.That(Present(current).Expired, Is.False);
        time.Advance(TimeSpan.FromMinutes(30));
        Assert.That(Present(mountedOld).Expired, Is.True);

        // The secret changes (a new key added, the old line removed): picked up at the next refresh, last uses kept.
        var added = ClientKeyHasher.NewKey();
        await File.WriteAllTextAsync(file, $"{ClientKeyHasher.HashHex(mounted)} label=k8s-2026-11\n{ClientKeyHasher.HashHex(added)} label=k8s-2026-12\n");
        Assert.That(Present(added).Client, Is.Null, "not before the secret is read again");
        var mountedUse = Present(mounted).Key!.LastUsed;
        time.Advance(TimeSpan.FromMinutes(5));
        await cache.RefreshAsync(settings.Current.SecretReferences.Single(), CancellationToken.None);
        Assert.That(Present(added).Client?.Id, Is.EqualTo("team-c"));
        Assert.That(Present(mountedOld).Client, Is.Null);
        Assert.That(table.Entries.Single(e => e.Key.Label == "k8s-2026-11").Key.LastUsed, Is.EqualTo(mountedUse), "carried over the rebuild");
        File.Delete(file);
    }
}
