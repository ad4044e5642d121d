using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// A full run with keys from Vault (AppRole login, token renewal, rotation, vendor 401 recovery) at Trace level, every
/// log entry and every span captured: no vendor key, Vault token, role_id or secret_id appears anywhere.
/// </summary>
public sealed class VaultSecretLeakTests
{
    [Test]
    public async Task FullRun_LogsAndTracesAtTrace_HoldNoSecretOrToken()
    {
        const string roleId = "db02de05-fa39-4855-059b-67221c5c2f63";
        const string secretId = "6a174c20-f6de-a53c-74d2-6018fcceff64";
        const string vaultToken = "hvs.CAESIapprole-session-token-000000001";
        const string keyV1 = "sk-proj-leakcheck-version-one-111111";
        const string keyV2 = "sk-proj-leakcheck-version-two-222222";
        using var vendors = new FakeVendors();
        using var vault = new FakeVault();
        var directory = Directory.CreateTempSubdirectory("leak-").FullName;
        File.WriteAllText(Path.Combine(directory, "role_id"), roleId);
        File.WriteAllText(Path.Combine(directory, "secret_id"), secretId);
        vault.Server.Given(Request.Create().WithPath("/v1/auth/approle/login").UsingPost()).RespondWith(FakeVault.Json(200, FakeVault.Login(vaultToken, 3600, true)));
        vault.SecretInState("v1", keyV1, 1, token: vaultToken);
        vault.SecretInState("v2", keyV2, 2, token: vaultToken);
        vendors.OpenAi.Given(Request.Create().UsingPost().WithHeader("Authorization", "Bearer " + keyV2)).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        vendors.OpenAi.Given(Request.Create().UsingPost()).AtPriority(5)
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json")
                .WithBody("""{"error":{"message":"Incorrect API key provided: sk-proj-leakcheck-version-one-111111.","type":"invalid_request_error","code":"invalid_api_key"}}"""));

        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (spans) { spans.Add(activity); } },
        };
        ActivitySource.AddActivityListener(listener);

        var gateway = await GatewayHost.StartAsync(vendors.Addresses, editOverrides: o =>
        {
            var g = o["Gateway"]!;
            g["Providers"]!["openai"]!["ApiKey"] = "vault:secret/ai/openai#api_key";
            g["Vault"] = new JsonObject
            {
                ["Address"] = vault.Address,
                ["Auth"] = new JsonObject
                {
                    ["Method"] = "approle",
                    ["RoleId"] = "file:" + Path.Combine(directory, "role_id"),
                    ["SecretId"] = "file:" + Path.Combine(directory, "secret_id"),
                },
            };
        });
        await using (gateway)
        {
            // Healthy, not just ready: readiness is 200 (Degraded) as soon as one provider has a key, and openai's must be read.
            await GatewayHost.WaitUntilAsync(async () =>
            {
                using var ready = await gateway.Client.GetAsync("/healthz/ready");
                return ready.StatusCode == HttpStatusCode.OK && System.Text.Json.JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString() == "Healthy";
            }, "every secret resolved");

            vault.State("v2"); // rotated in Vault: the first call gets a 401 with v1, re-reads, retries with v2
            foreach (var path in new[] { VendorCase.OpenAi.GatewayPath, "/v1/ai/generate", VendorCase.OpenAi.GatewayPath })
            {
                using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, path, gateway.ClientKeys["team-a"],
                    path.StartsWith("/v1/ai", StringComparison.Ordinal) ? """{"prompt":"Hi"}""" : VendorCase.OpenAi.RequestBody));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
            }

            // A positive control: the app's own logger handed a secret at Error level still writes none of it.
            gateway.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LeakProbe")
                .LogError(new InvalidOperationException("failed with " + keyV2), "Probe {Key} Authorization: Bearer {Token}", keyV2, vaultToken);
        }

        Directory.Delete(directory, recursive: true);
        var secrets = new[] { roleId, secretId, vaultToken, keyV1, keyV2, FakeVault.RootToken }.Concat(gateway.ClientKeys.Values);
        Assert.That(gateway.Logs.Entries, Has.Some.Contains("LeakProbe").And.Contains("[redacted]"), "the probe was logged, masked");
        Assert.That(gateway.Logs.Entries, Has.Some.Contains("Logged in to Vault"), "the Vault session was logged");
        Assert.That(spans, Has.Count.GreaterThan(5), "spans were captured");
        var spanText = string.Join("\n", spans.SelectMany(s =>
            s.TagObjects.Select(t => $"{t.Key}={t.Value}")
                .Concat(s.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={t.Value}")))
                .Append(s.DisplayName).Append(s.StatusDescription ?? "")
                .Concat(s.Baggage.Select(b => $"{b.Key}={b.Value}"))));
        foreach (var secret in secrets)
        {
            Assert.That(gateway.Logs.AllText, Does.Not.Contain(secret), "logs");
            Assert.That(spanText, Does.Not.Contain(secret), "traces");
        }
    }
}
