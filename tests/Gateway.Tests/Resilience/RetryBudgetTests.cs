using System.Net;
using System.Text.Json.Nodes;
using Gateway.Resilience;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Resilience;

/// <summary>A vendor outage must not double the load on the vendor: retries stay within the provider's budget.</summary>
public sealed class RetryBudgetTests
{
    [Test]
    public void Budget_AllowsCallsTimesRatioPlusTheMinimum_AndNoMore()
    {
        var budget = new RetryBudget(0.2, 10);
        var retries = 0;
        for (var call = 0; call < 1000; call++)
        {
            budget.Deposit();
            while (budget.TryWithdraw())
            {
                retries++;
            }
        }

        // The starting 10, then 0.2 a call — but the first call's share found the bucket full and was not kept.
        Assert.That(retries, Is.EqualTo(10 + 199));
    }

    [Test]
    public void Budget_HoldsAtMostItsMinimum_AndARefundGoesBackIn()
    {
        var budget = new RetryBudget(0.5, 3);
        for (var call = 0; call < 100; call++)
        {
            budget.Deposit();
        }

        Assert.That(Enumerable.Range(0, 10).Count(_ => budget.TryWithdraw()), Is.EqualTo(3), "healthy traffic does not bank more than the minimum");
        budget.Refund();
        Assert.That(budget.TryWithdraw(), Is.True);
        Assert.That(budget.TryWithdraw(), Is.False);
    }

    [Test]
    public async Task VendorFailingEveryCall_For1000Requests_IsCalledAtMostRequestsTimesOnePointTwoPlusTen()
    {
        using var vendors = new FakeVendors();
        vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(503).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture("openai/golden/error-500.json")));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The breaker is off for openai here, and only here: open, it would keep every call from the vendor and hide
        // what the budget alone does. Retries and the budget are the shipped defaults (2 retries, 0.2, 10).
        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses,
            editOverrides: o => o["Gateway"]!["Resilience"] = JsonNode.Parse("""{"Providers": {"openai": {"Breaker": {"Enabled": false}}}}"""),
            configure: b => b.Services.AddSingleton<TimeProvider>(time));

        using var stop = new CancellationTokenSource();
        var clock = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                time.Advance(TimeSpan.FromMilliseconds(200));
                await Task.Delay(1);
            }
        });

        const int Requests = 1000;
        var next = 0;
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        // A bound under concurrency: the budget is lock-free, so it is tested with the machine loaded.
        using (new CpuLoad())
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) <= Requests)
                {
                    using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
                    statuses.Add(response.StatusCode);
                }
            })));
        }
        await stop.CancelAsync();
        await clock;

        var calls = vendors.OpenAi.LogEntries.Count();
        Assert.Multiple(() =>
        {
            Assert.That(statuses, Has.Count.EqualTo(Requests).And.All.EqualTo(HttpStatusCode.ServiceUnavailable), "each caller gets the vendor's last answer");
            Assert.That(calls, Is.LessThanOrEqualTo(Requests * 1.2 + 10), "retries within the budget");
            Assert.That(calls, Is.GreaterThanOrEqualTo(Requests + 200), "the budget is spent, not left idle");
        });
    }
}
