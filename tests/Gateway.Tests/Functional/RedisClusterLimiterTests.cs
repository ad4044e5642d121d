using System.Net;
using System.Text.Json.Nodes;
using Gateway.Limiting;
using Gateway.Tests.Infrastructure;
using StackExchange.Redis;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// The shared limiter on a real Redis Cluster (three masters, three replicas, on loopback): every key of a decision in
/// one slot, limits exact across replicas, and a manual failover of the slot's master under load.
/// </summary>
[NonParallelizable]
public sealed class RedisClusterLimiterTests
{
    private RedisCluster _cluster = null!;
    private FakeVendors _vendors = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _cluster = await RedisCluster.StartAsync();
        _vendors = new FakeVendors();
        _vendors.OpenAi.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _vendors.Dispose();
        _cluster.Dispose();
    }

    private Task<GatewayHost> StartGatewayAsync(string prefix, string policies)
        => GatewayHost.StartAsync(_vendors.Addresses, editOverrides: o =>
        {
            // The connection string names the masters; the client discovers the rest of the cluster and follows moves.
            o["ConnectionStrings"] = new JsonObject { ["Redis"] = _cluster.ConnectionString };
            o["Gateway"]!["RateLimiting"] = JsonNode.Parse($$"""{"KeyPrefix": "{{prefix}}", "Policies": {{policies}}}""");
            o["Gateway"]!["Clients"]!["team-a"]!["RateLimitPolicy"] = "shared";
            o["Logging"] = JsonNode.Parse("""{"LogLevel": {"Default": "Warning"}}""");
        });

    [Test]
    public async Task ThreeReplicas_OnACluster_AdmitExactlyTheLimit()
    {
        const int limit = 40;
        var prefix = "gw" + Guid.NewGuid().ToString("N")[..8];
        var gateways = new List<GatewayHost>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                gateways.Add(await StartGatewayAsync(prefix, $$$"""{"shared": {"Requests": {{{limit}}}, "Window": "00:05:00"}}"""));
            }

            using var start = new ManualResetEventSlim();
            var calls = Enumerable.Range(0, 240).Select(caller => Task.Run(async () =>
            {
                start.Wait();
                var gateway = gateways[caller % 3];
                using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
                return response.StatusCode;
            })).ToList();
            start.Set();
            var statuses = await Task.WhenAll(calls);

            Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.EqualTo(limit));
            Assert.That(statuses.Count(s => s == HttpStatusCode.TooManyRequests), Is.EqualTo(240 - limit));
            using var connection = _cluster.Connect();
            Assert.That((await RedisLimiterState.CountedAsync(connection.GetDatabase(), prefix, "team-a")).Requests, Is.EqualTo(limit));
        }
        finally
        {
            foreach (var gateway in gateways)
            {
                await gateway.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task ManualFailoverOfTheSlotsMaster_UnderLoad_LimiterKeepsAnswering_AndStaysExact()
    {
        const int limit = 700;
        var prefix = "gw" + Guid.NewGuid().ToString("N")[..8];
        var gateways = new List<GatewayHost>();
        using var connection = _cluster.Connect();
        var key = RedisLimiterState.Log(prefix, "team-a");
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // Fail closed, so a decision made without Redis is a 503, never an admission counted nowhere.
                gateways.Add(await StartGatewayAsync(prefix, $$$"""{"shared": {"Requests": {{{limit}}}, "Window": "00:05:00", "OnRedisFailure": "closed"}}"""));
            }

            var replica = connection.GetServer("127.0.0.1", ReplicaOfTheMasterOf(connection, key));

            // Callers keep going until the limit has run out (50 refusals seen), a while after the failover.
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
            var unavailableAt = new System.Collections.Concurrent.ConcurrentBag<DateTimeOffset>();
            var failoverAt = DateTimeOffset.MaxValue;
            var callers = Enumerable.Range(0, 10).Select(caller => Task.Run(async () =>
            {
                var gateway = gateways[caller % 3];
                while (!stop.IsCancellationRequested && statuses.Count(st => st == HttpStatusCode.TooManyRequests) < 50)
                {
                    using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
                    statuses.Add(response.StatusCode);
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        unavailableAt.Add(DateTimeOffset.UtcNow);
                    }

                    await Task.Delay(20);
                }
            })).ToList();

            await GatewayHost.WaitUntilAsync(() => Task.FromResult(statuses.Count(st => st == HttpStatusCode.OK) >= limit / 3), "a third of the limit is used", TimeSpan.FromSeconds(30));
            var admittedBefore = statuses.Count(st => st == HttpStatusCode.OK);
            failoverAt = DateTimeOffset.UtcNow;
            await replica.ExecuteAsync("CLUSTER", "FAILOVER");
            await GatewayHost.WaitUntilAsync(() => Task.FromResult(replica.Execute("ROLE")[0].ToString() == "master"), "the replica takes over the slot");
            await Task.WhenAll(callers);
            Assert.That(stop.IsCancellationRequested, Is.False, "the limit ran out within a minute");

            var all = statuses.ToList();
            TestContext.Out.WriteLine($"admitted before the failover: {admittedBefore}; all: " + string.Join(", ", all.GroupBy(s => s).Select(g => $"{g.Key}={g.Count()}")));
            Assert.That(admittedBefore, Is.InRange(1, limit - 1), "the failover happened while the limit still had room");
            Assert.That(all.Count(s => s == HttpStatusCode.OK), Is.EqualTo(limit), "the limit is used, and never passed, through the failover");
            // While the slot moves, a decision fails (closed policy: 503); before it and once the new master answers, none does.
            // A 2 s span bounds the switch (the breaker's break is 1 s) however fast the machine is.
            var unavailable = unavailableAt.OrderBy(t => t).ToList();
            TestContext.Out.WriteLine($"503s: {unavailable.Count}, from {(unavailable.Count > 0 ? (unavailable[0] - failoverAt).TotalMilliseconds : 0)} ms to {(unavailable.Count > 0 ? (unavailable[^1] - failoverAt).TotalMilliseconds : 0)} ms after the failover");
            Assert.That(unavailable, Has.All.GreaterThanOrEqualTo(failoverAt), "fail mode only once the failover started");
            Assert.That(unavailable.Count == 0 ? TimeSpan.Zero : unavailable[^1] - unavailable[0], Is.LessThan(TimeSpan.FromSeconds(2)), "fail mode only while no master owned the slot");
            Assert.That(all.All(s => s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable), Is.True);
            Assert.That((await RedisLimiterState.CountedAsync(connection.GetDatabase(), prefix, "team-a")).Requests, Is.EqualTo(limit), "the new master holds every admission once");
            Assert.That(replica.Execute("ROLE")[0].ToString(), Is.EqualTo("master"));
        }
        finally
        {
            foreach (var gateway in gateways)
            {
                await gateway.DisposeAsync();
            }
        }
    }

    // From CLUSTER NODES: "<id> <host:port@bus> <flags> <master-id|-> … <slot ranges>".
    private static int ReplicaOfTheMasterOf(ConnectionMultiplexer connection, RedisKey key)
    {
        var any = connection.GetServer(connection.GetEndPoints()[0]);
        var slot = (long)any.Execute("CLUSTER", "KEYSLOT", key.ToString());
        var nodes = any.Execute("CLUSTER", "NODES").ToString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
        var master = nodes.Single(n => n[2].Contains("master", StringComparison.Ordinal) && n.Skip(8).Any(range =>
        {
            var bounds = range.Split('-');
            return bounds.Length == 2 && long.Parse(bounds[0], System.Globalization.CultureInfo.InvariantCulture) <= slot && slot <= long.Parse(bounds[1], System.Globalization.CultureInfo.InvariantCulture);
        }));
        var replica = nodes.Single(n => n[3] == master[0]);
        return int.Parse(replica[1].Split('@')[0].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
