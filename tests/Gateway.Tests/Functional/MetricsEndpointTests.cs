using System.Net;
using System.Net.Http.Headers;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>/metrics serves Prometheus text exposition of the gateway's meters.</summary>
public sealed class MetricsEndpointTests : GatewayFixture
{
    [Test]
    public async Task Metrics_AfterTraffic_ExposesRequestDurationsInPrometheusFormat()
    {
        Vendors.OpenAi.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        using (var call = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody)))
        {
            Assert.That(call.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var text = "";
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var scrape = await Gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("text/plain") } } });
            Assert.That(scrape.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(scrape.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/plain"));
            text = await scrape.Content.ReadAsStringAsync();
            return text.Contains("http_server_request_duration_seconds_bucket", StringComparison.Ordinal);
        }, "the scrape holds the server request histogram");

        Assert.That(text, Does.Contain("http_client_request_duration_seconds_bucket"), "vendor calls are measured");
        Assert.That(text, Does.Contain("# TYPE http_server_request_duration_seconds histogram"));
        Assert.That(text, Does.Not.Contain(Gateway.VendorKeys["openai"]).And.Not.Contain(Gateway.ClientKeys["team-a"]));
    }
}
