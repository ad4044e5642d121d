using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using StackExchange.Redis;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>Several gateway instances share one real redis-server: the limit is exact across replicas and survives Redis failures.</summary>
[NonParallelizable]
public sealed class SharedLimiterTests
{
    private RedisServer _redis = null!;
    private FakeVendors _vendors = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _redis = RedisServer.Start();
        _vendors = new FakeVendors();
        foreach (var vendor in VendorCase.All)
        {
            _vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).WithBody(b => b != null && !b.Contains("\"stream\":true")).UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
            _vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).WithBody(b => b != null && b.Contains("\"stream\":true")).UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(vendor.ReadFixture(vendor.StreamFixture)));
        }
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _vendors.Dispose();
        _redis.Dispose();
    }

    /// <param name="clock">A clock to decide on (<c>Clock: local</c>) instead of Redis server time.</param>
    private Task<GatewayHost> StartGatewayAsync(
        string prefix, string policies, Action<JsonNode>? clients = null, IReadOnlyDictionary<string, string>? addresses = null, TimeProvider? clock = null)
        => GatewayHost.StartAsync(addresses ?? _vendors.Addresses, editOverrides: o =>
        {
            o["ConnectionStrings"] = new JsonObject { ["Redis"] = _redis.ConnectionString + ",connectTimeout=500" };
            var gateway = o["Gateway"]!;
            gateway["RateLimiting"] = JsonNode.Parse($$"""{"KeyPrefix": "{{prefix}}", "RedisTimeout": "00:00:00.250", "ExpectedReplicas": 3, "Policies": {{policies}}}""");
            if (clock is not null)
            {
                gateway["RateLimiting"]!["Clock"] = "local";
            }

            clients?.Invoke(gateway["Clients"]!);
        }, configure: clock is null ? null : b => b.Services.AddSingleton(clock));

    private static Task<HttpResponseMessage> PassthroughAsync(GatewayHost gateway, string client = "team-a")
        => gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys[client], VendorCase.OpenAi.RequestBody));

    [Test]
    public async Task ThreeInstances_ConcurrentCallers_AdmitExactlyTheLimit()
    {
        const int limit = 60;
        var prefix = "gw" + Guid.NewGuid().ToString("N")[..6];
        var gateways = new List<GatewayHost>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                gateways.Add(await StartGatewayAsync(prefix, $$$"""{"shared": {"Requests": {{{limit}}}, "Window": "00:05:00", "OnRedisFailure": "closed"}}""",
                    c => c["team-a"]!["RateLimitPolicy"] = "shared"));
            }

            // 24 callers, 15 requests each, spread over the three instances: 360 attempts for 60 places.
            var statuses = await Task.WhenAll(Enumerable.Range(0, 24).Select(caller => Task.Run(async () =>
            {
                var codes = new List<HttpStatusCode>();
                for (var i = 0; i < 15; i++)
                {
                    using var response = await PassthroughAsync(gateways[(caller + i) % 3]);
                    codes.Add(response.StatusCode);
                }

                return codes;
            })));

            var all = statuses.SelectMany(s => s).ToList();
            Assert.That(all.Count(s => s == HttpStatusCode.OK), Is.EqualTo(limit), "never more than the limit, and no fewer");
            Assert.That(all.Count(s => s == HttpStatusCode.TooManyRequests), Is.EqualTo(all.Count - limit));
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
    public async Task Tokens_StreamAndDisconnect_AreSettled_AndNothingLeaks()
    {
        var prefix = "gw" + Guid.NewGuid().ToString("N")[..6];
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartGatewayAsync(prefix, """{"tokens": {"Tokens": 100000, "Window": "00:00:02"}}""",
            c => c["team-a"]!["RateLimitPolicy"] = "tokens", clock: time);
        using var connection = _redis.Connect();

        // A whole normalized stream settles to the usage it reported (Anthropic: 25 in, 12 out).
        using (var stream = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/ai/generate", gateway.ClientKeys["team-a"],
            """{"prompt":"Hi","model":"anthropic/claude-sonnet-5-5","stream":true}""")))
        {
            await stream.Content.ReadAsStringAsync();
        }

        // With no decision after it, a settlement goes out once SettleLinger (5 ms) has passed on the gateway's clock:
        // each look moves the fake clock on by that much.
        async Task<bool> SettledTo(long tokens)
        {
            time.Advance(TimeSpan.FromMilliseconds(5));
            return (await RedisLimiterState.CountedAsync(connection.GetDatabase(), prefix, "team-a")).Tokens == tokens;
        }

        await GatewayHost.WaitUntilAsync(() => SettledTo(37), "the stream is settled to 37 tokens");

        // A passthrough SSE stream settles from the usage chunk it carries (OpenAI: 28 + 11).
        using (var passthrough = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"],
            VendorCase.OpenAi.RequestBody.Replace("{", "{\"stream\":true,", StringComparison.Ordinal))))
        {
            await passthrough.Content.ReadAsStringAsync();
        }

        await GatewayHost.WaitUntilAsync(() => SettledTo(37 + 39), "the passthrough stream is settled");

        // After the window, the next decision clears everything: counters return to exactly the new reservation.
        time.Advance(TimeSpan.FromSeconds(3));
        using (var next = await PassthroughAsync(gateway))
        {
            Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        await GatewayHost.WaitUntilAsync(() => SettledTo(39), "only the last call remains");
    }

    [Test]
    public async Task CallerDisconnectsMidStream_IsSettledToTheUsageReportedSoFar()
    {
        var prefix = "gw" + Guid.NewGuid().ToString("N")[..6];
        await using var vendor = await StallingVendor.StartAsync(events: 4);
        await using var gateway = await StartGatewayAsync(prefix, """{"tokens": {"Tokens": 100000, "Window": "00:05:00"}}""",
            c => c["team-a"]!["RateLimitPolicy"] = "tokens", new Dictionary<string, string> { ["anthropic"] = vendor.Address });
        using var connection = _redis.Connect();

        var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/ai/generate", gateway.ClientKeys["team-a"],
            """{"prompt":"Hi","model":"anthropic/claude-sonnet-5-5","stream":true,"max_tokens":5000}"""), HttpCompletionOption.ResponseHeadersRead);
        var reader = new InternalEvents(await response.Content.ReadAsStreamAsync());
        Assert.That((await reader.NextAsync())?.Name, Is.EqualTo("delta"));
        var reserved = (await RedisLimiterState.CountedAsync(connection.GetDatabase(), prefix, "team-a")).Tokens;
        Assert.That(reserved, Is.GreaterThan(5000), "max_tokens and the input are reserved while the call runs");

        response.Dispose();

        // message_start reported 25 input tokens and 1 output token before the caller left.
        await GatewayHost.WaitUntilAsync(async () => (await RedisLimiterState.CountedAsync(connection.GetDatabase(), prefix, "team-a")).Tokens == 26,
            "the reservation is settled to the usage reported before the disconnect");
    }

    [Test]
    public async Task RedisSlowerThanTheBudget_DecisionsStillComeWithinTheBudget()
    {
        var prefix = "gw" + Guid.NewGuid().ToString("N")[..6];
        await using var gateway = await StartGatewayAsync(prefix,
            """{"open": {"Requests": 30, "Window": "00:10:00", "OnRedisFailure": "open"}, "closed": {"Requests": 30, "Window": "00:10:00", "OnRedisFailure": "closed"}}""",
            c =>
            {
                c["team-a"]!["RateLimitPolicy"] = "open";
                c["team-b"]!["RateLimitPolicy"] = "closed";
            });
        using (var warm = await PassthroughAsync(gateway, "team-b"))
        {
            Assert.That(warm.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        // CLIENT PAUSE ALL holds every client's commands, as a Redis stuck on a slow command or a saturated network
        // would; its own answer says the pause has begun (no sleep to guess when).
        using var admin = _redis.Connect();
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        var watch = Stopwatch.StartNew();
        using var open = await PassthroughAsync(gateway, "team-a");
        var openTook = watch.Elapsed;
        watch.Restart();
        using var closed = await PassthroughAsync(gateway, "team-b");
        var closedTook = watch.Elapsed;
        // A command answers only once the pause is over: the next test finds Redis serving.
        await admin.GetDatabase().PingAsync();

        Assert.That(open.StatusCode, Is.EqualTo(HttpStatusCode.OK), "fail open");
        await ProblemAssert.IsProblemAsync(closed, HttpStatusCode.ServiceUnavailable, "rate_limiter_unavailable", "POST " + VendorCase.OpenAi.GatewayPath);
        Assert.That(openTook, Is.LessThan(TimeSpan.FromSeconds(1.5)), "decided on the 250 ms budget, not after Redis woke up");
        Assert.That(closedTook, Is.LessThan(TimeSpan.FromSeconds(1.5)));
    }

    [Test]
    public async Task RedisKilledMidLoad_FailModesApplyWithinTheBudget_ThenTheSharedLimitReturns()
    {
        var prefix = "gw" + Guid.NewGuid().ToString("N")[..6];
        await using var gateway = await StartGatewayAsync(prefix,
            """{"open": {"Requests": 30, "Window": "00:10:00", "OnRedisFailure": "open"}, "closed": {"Requests": 30, "Window": "00:10:00", "OnRedisFailure": "closed"}}""",
            c =>
            {
                c["team-a"]!["RateLimitPolicy"] = "open";
                c["team-b"]!["RateLimitPolicy"] = "closed";
            });

        for (var i = 0; i < 5; i++)
        {
            using var ok = await PassthroughAsync(gateway);
            Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        _redis.Kill();
        try
        {
            var open = new List<HttpStatusCode>();
            var closed = new List<HttpStatusCode>();
            var slowest = TimeSpan.Zero;
            for (var i = 0; i < 15; i++)
            {
                var watch = Stopwatch.StartNew();
                using (var a = await PassthroughAsync(gateway, "team-a"))
                {
                    open.Add(a.StatusCode);
                }

                using (var b = await PassthroughAsync(gateway, "team-b"))
                {
                    closed.Add(b.StatusCode);
                    if (b.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        await ProblemAssert.IsProblemAsync(b, HttpStatusCode.ServiceUnavailable, "rate_limiter_unavailable", "POST " + VendorCase.OpenAi.GatewayPath);
                    }
                }

                watch.Stop();
                slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            }

            Assert.That(open.Count(s => s == HttpStatusCode.OK), Is.EqualTo(10), "fail open: a local limiter at 30 ÷ 3 replicas");
            Assert.That(open.Skip(10), Has.All.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(closed, Has.All.EqualTo(HttpStatusCode.ServiceUnavailable), "fail closed: 503");
            Assert.That(slowest, Is.LessThan(TimeSpan.FromSeconds(2)), "answered within the time budget, never hanging on Redis");

            // The outage shows in the limiter's metrics: decisions made without Redis, by cause, and the breaker open.
            using var scrape = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics")
            {
                Headers = { Accept = { new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("text/plain") } },
            });
            var metrics = await scrape.Content.ReadAsStringAsync();
            Assert.That(metrics, Does.Match("gateway_limiter_fallbacks_total\\{[^}]*cause=\"(redis_error|breaker_open)\"[^}]*\\} [1-9]"));
            Assert.That(metrics, Does.Match("gateway_limiter_breaker_state(\\{[^}]*\\})? 1"), "the breaker is open");
            Assert.That(metrics, Does.Match("gateway_limiter_refusals_total\\{[^}]*reason=\"unavailable\"[^}]*\\} [1-9]"));
        }
        finally
        {
            _redis.Launch();
        }

        // Redis is back (empty: it kept nothing): the gateway reconnects without a restart and the shared limit holds again.
        using var connection = _redis.Connect();
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var response = await PassthroughAsync(gateway, "team-b");
            return response.StatusCode == HttpStatusCode.OK;
        }, "the gateway decides on Redis again", TimeSpan.FromSeconds(20));
        Assert.That(await connection.GetDatabase().KeyExistsAsync(RedisLimiterState.Log(prefix, "team-b")), Is.True);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 35; i++)
        {
            using var response = await PassthroughAsync(gateway, "team-b");
            statuses.Add(response.StatusCode);
        }

        Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.EqualTo(29), "30 in the window, one already used while waiting");
    }
}
