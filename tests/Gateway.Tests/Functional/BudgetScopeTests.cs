using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Functional;

/// <summary>
/// Cost caps where the playbook puts them against cost spikes: per end user and per session, beside the client's,
/// reserved and settled atomically with everything else — with the in-process store and on a real Redis.
/// </summary>
[NonParallelizable]
public sealed class BudgetScopeTests
{
    private const string Path = "/api/ai/openai/v1/chat/completions";

    // What the gateway reserves for one passthrough call before it knows the model: the input estimate (body ÷ 4) and
    // the output reservation (1024) at the highest prices of the shipped table ($2 in, $10 out per million), in micro-USD.
    private static readonly long CallCostMicros = VendorCase.OpenAi.RequestBody.Length / 4 * 2 + 1024 * 10;

    private static async Task<(GatewayHost Gateway, GatedVendor Vendor, RedisServer? Redis)> StartAsync(bool redis, string setting)
    {
        var vendor = await GatedVendor.StartAsync();
        var server = redis ? RedisServer.Start() : null;
        // Worth 10 calls and a half: the 11th does not fit.
        var budget = (10 * CallCostMicros + CallCostMicros / 2) / 1_000_000m;
        var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["openai"] = vendor.Address }, editOverrides: o =>
        {
            o["Gateway"]!["Clients"]!["team-a"]![setting] = budget;
            if (server is not null)
            {
                o["ConnectionStrings"] = new JsonObject { ["Redis"] = server.ConnectionString };
            }

            o["Logging"] = JsonNode.Parse("""{"LogLevel": {"Default": "Warning"}}""");
        });
        return (gateway, vendor, server);
    }

    private static async Task StopAsync((GatewayHost Gateway, GatedVendor Vendor, RedisServer? Redis) setup)
    {
        await setup.Gateway.DisposeAsync();
        await setup.Vendor.DisposeAsync();
        setup.Redis?.Dispose();
    }

    private static Task<HttpResponseMessage> CallAsync(GatewayHost gateway, string header, string value)
    {
        var request = gateway.Request(HttpMethod.Post, Path, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody);
        request.Headers.Add(header, value);
        return gateway.Client.SendAsync(request);
    }

    [TestCase(false, "UserDailyBudgetUsd", "x-gateway-user", "End user 'u-1' of client 'team-a'")]
    [TestCase(true, "UserDailyBudgetUsd", "x-gateway-user", "End user 'u-1' of client 'team-a'")]
    [TestCase(false, "SessionDailyBudgetUsd", "x-gateway-session", "Session 'u-1' of client 'team-a'")]
    [TestCase(true, "SessionDailyBudgetUsd", "x-gateway-session", "Session 'u-1' of client 'team-a'")]
    public async Task TwoHundredConcurrentCalls_AgainstABudgetWorthTen_AdmitExactlyTen_AndOtherUsersAreUnaffected(bool redis, string setting, string header, string named)
    {
        var setup = await StartAsync(redis, setting);
        try
        {
            var gateway = setup.Gateway;
            List<HttpResponseMessage> responses;
            using (new CpuLoad())
            {
                var calls = Enumerable.Range(0, 200).Select(_ => Task.Run(() => CallAsync(gateway, header, "u-1"))).ToList();
                // Every decision is made while the admitted calls wait at the vendor: none has settled yet.
                await GatewayHost.WaitUntilAsync(() => Task.FromResult(setup.Vendor.Received + calls.Count(c => c.IsCompleted) == 200), "every call is decided");
                using var other = await Task.Run(async () =>
                {
                    var call = CallAsync(gateway, header, "u-2");
                    await GatewayHost.WaitUntilAsync(() => Task.FromResult(setup.Vendor.Received == 11), "the other user's call reaches the vendor");
                    setup.Vendor.Open();
                    return await call;
                });
                Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.OK), "another user of the same client is not held by u-1's budget");
                responses = [.. await Task.WhenAll(calls)];
            }

            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(10));
            var refused = responses.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
            Assert.That(refused, Has.Count.EqualTo(190));
            var problem = await ProblemAssert.IsProblemAsync(refused[0], HttpStatusCode.TooManyRequests, "budget_exhausted", "POST " + Path);
            Assert.That(problem.GetProperty("detail").GetString(), Does.StartWith(named + " has spent its daily budget"));
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
        finally
        {
            await StopAsync(setup);
        }
    }
}
