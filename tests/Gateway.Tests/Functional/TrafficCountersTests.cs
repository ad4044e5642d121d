using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// The traffic counters are running totals per label set, added to by each call without a lock: calls made at once,
/// on a loaded machine, are each counted once — requests and tokens exactly, cost to the rounding of its sums.
/// </summary>
public sealed partial class TrafficCountersTests : GatewayFixture
{
    private const int Workers = 16;
    private const int CallsEach = 25;

    [Test]
    [Repeat(2)]
    public async Task CallsAtOnce_UnderLoad_AreEachCountedOnce()
    {
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        string[] requests = ["gateway_requests_total", "route=\"openai\"", "provider=\"openai\"", "client=\"team-a\"", "status_class=\"2xx\"", "error_code=\"none\""];
        string[] input = ["gateway_tokens_total", "provider=\"openai\"", "client=\"team-a\"", "token_type=\"input\""];
        string[] output = ["gateway_tokens_total", "provider=\"openai\"", "client=\"team-a\"", "token_type=\"output\""];
        string[] cost = ["gateway_cost_usd_total", "provider=\"openai\"", "client=\"team-a\""];
        var before = await ScrapeAsync();

        using (new CpuLoad())
        {
            await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
            {
                for (var i = 0; i < CallsEach; i++)
                {
                    using var call = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
                    Assert.That(call.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                }
            })));
        }

        const int calls = Workers * CallsEach;
        var after = "";
        // A call is counted as its frame ends, which may be just after the caller has its answer.
        await GatewayHost.WaitUntilAsync(async () => Value(after = await ScrapeAsync(), requests) - Value(before, requests) >= calls, "every call is counted");
        after = await ScrapeAsync();
        // The fixture's answer: 28 input and 11 output tokens a call (VENDOR-SHAPES.md), at the shipped test prices.
        Assert.Multiple(() =>
        {
            Assert.That(Value(after, requests) - Value(before, requests), Is.EqualTo(calls));
            Assert.That(Value(after, input) - Value(before, input), Is.EqualTo(calls * 28));
            Assert.That(Value(after, output) - Value(before, output), Is.EqualTo(calls * 11));
            Assert.That(Value(after, cost) - Value(before, cost), Is.EqualTo(calls * (28 * 0.1 + 11 * 0.5) / 1e6).Within(1e-9));
        });
    }

    private async Task<string> ScrapeAsync()
    {
        using var scrape = await Gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("text/plain") } } });
        return await scrape.Content.ReadAsStringAsync();
    }

    private static double Value(string scrape, string[] metric)
    {
        var total = 0.0;
        foreach (Match sample in Sample().Matches(scrape))
        {
            if (sample.Groups["name"].Value == metric[0] && metric.Skip(1).All(l => sample.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            {
                total += double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
