using System.Net;
using System.Text.Json.Nodes;
using Gateway.Auth;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// A client key's life: <c>keys rotate</c> prints the client's keys with the old one kept for the overlap; both work
/// during it; past its NotAfter the old one gets 401 client_key_expired; keys can also come from a mounted secret.
/// </summary>
public sealed class ClientKeyLifecycleTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);
    private FakeVendors _vendors = null!;

    [SetUp]
    public void SetUp()
    {
        _vendors = new FakeVendors();
        _vendors.OpenAi.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
    }

    [TearDown]
    public void TearDown() => _vendors.Dispose();

    private static Task<HttpResponseMessage> CallAsync(GatewayHost gateway, string key)
        => gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, key, VendorCase.OpenAi.RequestBody));

    [Test]
    public async Task KeysRotate_OutputRoundTripsIntoConfig_BothKeysWorkDuringTheOverlap_TheOldOneExpiresAfterIt()
    {
        // team-a as configured before the rotation: one key, no expiry.
        var oldKey = ClientKeyHasher.NewKey();
        var folder = Directory.CreateTempSubdirectory("rotate-").FullName;
        File.WriteAllText(Path.Combine(folder, "clients.json"), new JsonObject { ["Gateway"] = new JsonObject { ["Clients"] = new JsonObject { ["team-a"] = new JsonObject { ["KeySha256"] = ClientKeyHasher.HashHex(oldKey) } } } }.ToJsonString());
        var time = new FakeTimeProvider(Start);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.That(KeysCommand.Run(["keys", "rotate", "--client", "team-a", "--overlap", "1.00:00:00", "--config", folder], output, error, time), Is.Zero, error.ToString());
        var lines = output.ToString().Split('\n').Select(l => l.Trim()).ToList();
        var newKey = lines.Single(l => l.StartsWith(ClientKeyHasher.KeyPrefix, StringComparison.Ordinal));
        Directory.Delete(folder, recursive: true);

        // The JSON form and the environment form say the same.
        var json = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(lines.Single(l => l.StartsWith('{'))))).Build();
        var environment = new ConfigurationBuilder().AddInMemoryCollection(lines.Where(l => l.StartsWith("Gateway__", StringComparison.Ordinal))
            .Select(l => new KeyValuePair<string, string?>(l[..l.IndexOf('=')].Replace("__", ":", StringComparison.Ordinal), l[(l.IndexOf('=') + 1)..]))).Build();
        var keys = json.GetSection("Gateway:Clients:team-a:Keys").Get<ClientKeyOptions[]>()!;
        Assert.That(environment.GetSection("Gateway:Clients:team-a:Keys").Get<ClientKeyOptions[]>(), Is.EqualTo(keys));
        Assert.That(keys, Is.EqualTo(new[]
        {
            new ClientKeyOptions { Sha256 = ClientKeyHasher.HashHex(oldKey), NotAfter = Start.AddDays(1), Label = "sha256:" + ClientKeyHasher.HashHex(oldKey)[..8] },
            new ClientKeyOptions { Sha256 = ClientKeyHasher.HashHex(newKey), Label = "2026-11-28" },
        }));
        Assert.That(output.ToString().Split(newKey).Length - 1, Is.EqualTo(1), "the new key is printed once");

        // Into configuration as printed (the Keys list replaces KeySha256), on a gateway whose clock the test moves.
        var printed = JsonNode.Parse(lines.Single(l => l.StartsWith('{')))!["Gateway"]!["Clients"]!["team-a"]!.DeepClone();
        await using var gateway = await GatewayHost.StartAsync(_vendors.Addresses,
            editOverrides: o => o["Gateway"]!["Clients"]!["team-a"] = printed,
            configure: b => b.Services.AddSingleton<TimeProvider>(time));

        foreach (var key in new[] { oldKey, newKey })
        {
            using var response = await CallAsync(gateway, key);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "during the overlap both keys work");
        }

        var metrics = await gateway.Client.GetStringAsync("/metrics");
        foreach (var key in keys)
        {
            Assert.That(metrics, Does.Contain($"gateway_client_key_last_used_timestamp_seconds{{otel_scope_name=\"Gateway.Auth\",client=\"team-a\",key_label=\"{key.Label}\"}} {Start.ToUnixTimeSeconds()}"));
        }

        Assert.That(metrics, Does.Not.Contain(newKey).And.Not.Contain(ClientKeyHasher.HashHex(newKey)), "by label, never by key or hash");

        time.Advance(TimeSpan.FromDays(1));
        using (var expired = await CallAsync(gateway, oldKey))
        {
            var problem = await ProblemAssert.IsProblemAsync(expired, HttpStatusCode.Unauthorized, "client_key_expired", "POST " + VendorCase.OpenAi.GatewayPath, time.GetUtcNow());
            Assert.That(problem.GetProperty("detail").GetString(),
                Is.EqualTo($"Client 'team-a' key '{keys[0].Label}' expired at 2026-11-29T09:00:00Z; use the client's new key (the platform team issues one with 'keys rotate --client team-a')."));
            Assert.That(expired.Headers.WwwAuthenticate.ToString(), Does.StartWith("Bearer error=\"invalid_token\""));
        }

        using (var current = await CallAsync(gateway, newKey))
        {
            Assert.That(current.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(_vendors.OpenAi.LogEntries.Count(), Is.EqualTo(3), "the expired key's call never reached the vendor");
        Assert.That(gateway.Logs.Entries.Where(e => e.Contains(oldKey, StringComparison.Ordinal) || e.Contains(newKey, StringComparison.Ordinal)), Is.Empty,
            "no client key in any log line at Trace level");
    }

    [Test]
    public async Task KeepAliveConnection_HashesItsKeyOnce_AnUnknownKeyOnItAndANewConnectionAreLookedUp()
    {
        await using var gateway = await GatewayHost.StartAsync(_vendors.Addresses);
        var authenticator = gateway.Services.GetRequiredService<ClientKeyAuthenticator>();
        async Task<HttpStatusCode> StatusAsync(HttpClient client, string key)
        {
            using var response = await client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, key, VendorCase.OpenAi.RequestBody));
            return response.StatusCode;
        }

        // One HTTP/1.1 connection (the host's client keeps it alive), Kestrel in front: its key is hashed once.
        var before = authenticator.KeysHashed;
        for (var i = 0; i < 5; i++)
        {
            Assert.That(await StatusAsync(gateway.Client, gateway.ClientKeys["team-a"]), Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(authenticator.KeysHashed - before, Is.EqualTo(1));
        Assert.That(await StatusAsync(gateway.Client, ClientKeyHasher.NewKey()), Is.EqualTo(HttpStatusCode.Unauthorized), "an unknown key on the same connection");
        Assert.That(await StatusAsync(gateway.Client, gateway.ClientKeys["team-a"]), Is.EqualTo(HttpStatusCode.OK));
        using var another = new HttpClient { BaseAddress = gateway.BaseAddress };
        Assert.That(await StatusAsync(another, gateway.ClientKeys["team-a"]), Is.EqualTo(HttpStatusCode.OK));
        Assert.That(authenticator.KeysHashed - before, Is.EqualTo(3), "the unknown key and the new connection's (team-a's is still known after a refused key)");
    }

    [Test]
    public async Task KeysFromAMountedSecret_AKeyAddedToTheFile_WorksWithoutRestart()
    {
        var (first, second) = (ClientKeyHasher.NewKey(), ClientKeyHasher.NewKey());
        var directory = Directory.CreateTempSubdirectory("client-keys-").FullName;
        var file = Path.Combine(directory, "team-d");
        File.WriteAllText(file, $"{ClientKeyHasher.HashHex(first)} label=first\n");
        await using var gateway = await GatewayHost.StartAsync(_vendors.Addresses, editOverrides: o =>
        {
            o["Gateway"]!["Clients"]!["team-d"] = new JsonObject { ["KeysFrom"] = "file:" + file };
            o["Gateway"]!["Secrets"] = new JsonObject { ["PollInterval"] = "01:00:00" };
        });

        using (var response = await CallAsync(gateway, first))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        using (var response = await CallAsync(gateway, second))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "not listed yet");
        }

        File.WriteAllText(file, $"{ClientKeyHasher.HashHex(first)} label=first notAfter=2020-01-01T00:00:00Z\n{ClientKeyHasher.HashHex(second)} label=second\n");
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var response = await CallAsync(gateway, second);
            return response.StatusCode == HttpStatusCode.OK;
        }, "the key added to the mounted file works");
        using (var response = await CallAsync(gateway, first))
        {
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized, "client_key_expired", "POST " + VendorCase.OpenAi.GatewayPath);
        }

        Assert.That(gateway.Logs.Entries.Where(e => e.Contains(first, StringComparison.Ordinal) || e.Contains(second, StringComparison.Ordinal)), Is.Empty);
        Directory.Delete(directory, recursive: true);
    }
}
