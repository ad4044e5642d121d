using System.Net;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>A full run at Trace level: no vendor key, client key or caller credential appears in any log entry.</summary>
public sealed class SecretLeakTests
{
    [Test]
    public async Task FullRun_AtTraceLevel_LogsNoSecret()
    {
        using var vendors = new FakeVendors();
        var gateway = await GatewayHost.StartAsync(vendors.Addresses);
        await using (gateway)
        {
            foreach (var vendor in VendorCase.All)
            {
                vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).WithBody(b => b != null && !b.Contains("\"stream\"")).UsingPost())
                    .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
                vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).WithBody(b => b != null && b.Contains("\"stream\"")).UsingPost())
                    .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(vendor.ReadFixture(vendor.StreamFixture)));
                vendors[vendor.Vendor].Given(Request.Create().WithPath("/v1/models").UsingGet())
                    .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json")
                        .WithBody("""{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"""));

                foreach (var apiKeyHeader in new[] { false, true })
                {
                    using var ok = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, vendor.GatewayPath, gateway.ClientKeys["team-a"], vendor.RequestBody, apiKeyHeader));
                    Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                }

                using var streamed = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, vendor.GatewayPath, gateway.ClientKeys["team-a"], vendor.RequestBody.Replace("{", "{\"stream\":true,", StringComparison.Ordinal)));
                Assert.That(await streamed.Content.ReadAsStringAsync(), Is.EqualTo(vendor.ReadFixture(vendor.StreamFixture)));

                using var vendorRefused = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, $"/api/ai/{vendor.Vendor}/v1/models", gateway.ClientKeys["team-a"]));
                Assert.That(vendorRefused.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway), "a vendor 401 is the gateway's key problem: vendor_auth_failed");

                using var wrongKey = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, vendor.GatewayPath, gateway.ClientKeys["team-a"] + "x", vendor.RequestBody));
                Assert.That(wrongKey.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

                using var outOfScope = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, vendor.GatewayPath, gateway.ClientKeys["team-c"], vendor.RequestBody));
                using var withCookies = gateway.Request(HttpMethod.Post, vendor.GatewayPath, gateway.ClientKeys["team-a"], vendor.RequestBody);
                withCookies.Headers.Add("Cookie", "session=caller-cookie-secret-value");
                withCookies.Headers.Add("api-key", "caller-api-key-secret-value");
                using var _ = await gateway.Client.SendAsync(withCookies);
            }
        }

        var secrets = gateway.VendorKeys.Values.Concat(gateway.ClientKeys.Values).Append("caller-cookie-secret-value").Append("caller-api-key-secret-value");
        Assert.That(gateway.Logs.Entries, Has.Count.GreaterThan(100), "logs were captured");
        Assert.That(gateway.Logs.Entries, Has.Some.StartsWith("Trace "), "Trace level was on");
        Assert.That(gateway.Logs.Entries, Has.Some.Contains("Yarp."), "the forwarder logged the calls");
        foreach (var secret in secrets)
        {
            Assert.That(gateway.Logs.AllText, Does.Not.Contain(secret));
        }
    }
}
