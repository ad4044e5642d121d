using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>The in-process limiter (no Redis configured): 429 problems, RateLimit headers, budgets, passthrough and normalized alike.</summary>
public sealed class RateLimitingTests
{
    private FakeVendors _vendors = null!;
    private GatewayHost _gateway = null!;

    [SetUp]
    public async Task StartAsync()
    {
        _vendors = new FakeVendors();
        _vendors.AnswerEveryChatCall();

        _gateway = await GatewayHost.StartAsync(_vendors.Addresses, editOverrides: o =>
        {
            var gateway = o["Gateway"]!;
            gateway["RateLimiting"] = JsonNode.Parse("""
                {"Policies": {
                  "three": {"Requests": 3, "Window": "00:01:00"},
                  "tokens": {"Tokens": 5000, "Window": "00:01:00"},
                  "per-user": {"Requests": 1, "Window": "00:01:00"}
                }}
                """);
            gateway["Clients"]!["team-a"]!["RateLimitPolicy"] = "three";
            gateway["Clients"]!["team-b"]!["RateLimitPolicy"] = "tokens";
            gateway["Clients"]!["team-c"]!["UserRateLimitPolicy"] = "per-user";
            gateway["Clients"]!["team-c"]!["Routes"] = new JsonArray("cohere", "generate-v1");
        });
    }

    [TearDown]
    public async Task StopAsync()
    {
        await _gateway.DisposeAsync();
        _vendors.Dispose();
    }

    private Task<HttpResponseMessage> PassthroughAsync(string client)
        => _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, _gateway.ClientKeys[client], VendorCase.OpenAi.RequestBody));

    private Task<HttpResponseMessage> GenerateAsync(string client, string? user = null)
    {
        var body = new JsonObject { ["prompt"] = "Hi", ["max_tokens"] = 100 };
        if (user is not null)
        {
            body["user"] = user;
        }

        return _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/v1/ai/generate", _gateway.ClientKeys[client], body.ToJsonString()));
    }

    [Test]
    public async Task OverTheLimit_Is429RateLimited_WithRetryAfterAndRateLimitHeaders_OnBothKindsOfRoute()
    {
        for (var i = 0; i < 3; i++)
        {
            using var ok = i % 2 == 0 ? await PassthroughAsync("team-a") : await GenerateAsync("team-a");
            Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(ok.Headers.GetValues("RateLimit-Policy").Single(), Is.EqualTo("\"requests\";q=3;w=60"));
            Assert.That(ok.Headers.GetValues("RateLimit").Single(), Does.StartWith($"\"requests\";r={2 - i};t="));
        }

        foreach (var refused in new[] { await PassthroughAsync("team-a"), await GenerateAsync("team-a") })
        {
            using (refused)
            {
                var endpoint = refused.RequestMessage!.RequestUri!.AbsolutePath;
                var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate_limited", "POST " + endpoint);
                Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("'three'").And.Contain("3 requests per 00:01:00"));
                Assert.That(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, Is.InRange(1, 60));
                Assert.That(refused.Headers.GetValues("RateLimit").Single(), Does.StartWith("\"requests\";r=0;t="));
            }
        }

        Assert.That(_vendors.OpenAi.LogEntries.Count(), Is.EqualTo(3), "refused requests never reach the vendor");
    }

    [Test]
    public async Task Tokens_ReservedThenSettledToTheVendorsUsage()
    {
        // Normalized: reserves body/4 + max_tokens (100), settles to the fixture's usage (28 + 11 = 39).
        using var first = await GenerateAsync("team-b");
        var tokensLeftAfterReservation = long.Parse(first.Headers.GetValues("RateLimit").Single().Split(";r=")[1].Split(';')[0]);
        Assert.That(tokensLeftAfterReservation, Is.LessThan(5000 - 100));

        using var second = await GenerateAsync("team-b");
        var reserved = 5000 - tokensLeftAfterReservation;
        var left = long.Parse(second.Headers.GetValues("RateLimit").Single().Split(";r=")[1].Split(';')[0]);
        Assert.That(left, Is.EqualTo(5000 - 39 - reserved), "the first call was settled to its 39 tokens");

        // Passthrough: settled from the JSON body's usage block (39 again).
        using var third = await PassthroughAsync("team-b");
        Assert.That(third.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var fourth = await GenerateAsync("team-b");
        var afterPassthrough = long.Parse(fourth.Headers.GetValues("RateLimit").Single().Split(";r=")[1].Split(';')[0]);
        Assert.That(afterPassthrough, Is.EqualTo(5000 - 39 - 39 - 39 - reserved));
    }

    [Test]
    public async Task Passthrough_CallsThatMeterNothingOrOnlyInput_SettleToThat()
    {
        _vendors.OpenAi.Given(Request.Create().WithPath("/v1/models").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""{"object":"list","data":[{"id":"gpt-6-luna","object":"model","created":1721172741,"owned_by":"system"}]}"""));
        _vendors.OpenAi.Given(Request.Create().WithPath("/v1/embeddings").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023,-0.0093]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"""));

        static long TokensLeft(HttpResponseMessage response) => long.Parse(response.Headers.GetValues("RateLimit").Single().Split(";r=")[1].Split(';')[0]);

        using (var models = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Get, "/api/ai/openai/v1/models", _gateway.ClientKeys["team-b"])))
        {
            Assert.That(models.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(TokensLeft(models), Is.EqualTo(5000), "a request without a body reserves no output");
        }

        using (var embeddings = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Post, "/api/ai/openai/v1/embeddings", _gateway.ClientKeys["team-b"],
            """{"model":"text-embedding-3-small","input":"The food was delicious"}""")))
        {
            Assert.That(embeddings.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        using var probe = await _gateway.Client.SendAsync(_gateway.Request(HttpMethod.Get, "/api/ai/openai/v1/models", _gateway.ClientKeys["team-b"]));
        Assert.That(TokensLeft(probe), Is.EqualTo(5000 - 8), "the models list settled to 0, the embeddings call to its 8 input tokens");
    }

    [Test]
    public async Task PerUserPolicy_LimitsEachUserSeparately()
    {
        using (var alice = await GenerateAsync("team-c", "alice"))
        {
            Assert.That(alice.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        using (var aliceAgain = await GenerateAsync("team-c", "alice"))
        {
            var problem = await ProblemAssert.IsProblemAsync(aliceAgain, HttpStatusCode.TooManyRequests, "rate_limited", "POST /v1/ai/generate");
            Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("user alice"));
            Assert.That(aliceAgain.Headers.GetValues("RateLimit").Single(), Does.StartWith("\"user-requests\";r=0"));
        }

        using var bob = await GenerateAsync("team-c", "bob");
        Assert.That(bob.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        using var request = _gateway.Request(HttpMethod.Post, VendorCase.Cohere.GatewayPath, _gateway.ClientKeys["team-c"], VendorCase.Cohere.RequestBody);
        request.Headers.Add("x-gateway-user", "alice");
        using var passthrough = await _gateway.Client.SendAsync(request);
        Assert.That(passthrough.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), "the user header names the user on passthrough routes");
    }

    [Test]
    public async Task UnlimitedClient_GetsNoRateLimitHeaders()
    {
        _gateway.EditConfig(GatewayHost.OverridesFile, c => c["Gateway"]!["Clients"]!["team-a"]!.AsObject().Remove("RateLimitPolicy"));
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var response = await PassthroughAsync("team-a");
            return response.StatusCode == HttpStatusCode.OK && !response.Headers.Contains("RateLimit");
        }, "team-a is unlimited");
    }
}

/// <summary>Daily cost caps from the price table.</summary>
public sealed class BudgetTests
{
    [TestCase("/v1/ai/generate", """{"prompt": "Hi", "max_tokens": 1000, "model": "openai/gpt-6-luna"}""")]
    [TestCase("/v1/chat/completions", """{"messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 1000, "model": "openai/gpt-6-luna"}""")]
    public async Task DailyBudget_ConcurrentRequests_CannotOvershoot_ThenBudgetExhausted(string path, string body)
    {
        // The vendor holds every answer until all 40 calls are admitted or refused: no call settles before every decision is made.
        await using var vendor = await GatedVendor.StartAsync();
        // gpt-6-luna at 1 USD per million output tokens, no input price: max_tokens 1000 reserves 0.001 USD; the cap is 0.01 USD.
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["openai"] = vendor.Address }, editOverrides: o =>
        {
            var g = o["Gateway"]!;
            g["Prices"] = JsonNode.Parse("""{"gpt-6-luna": {"InputPerMillionUsd": 0, "OutputPerMillionUsd": 1}}""");
            g["Clients"]!["team-a"]!["DailyBudgetUsd"] = 0.01;
        });

        var calls = Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, path, gateway.ClientKeys["team-a"], body));
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }).ToList();
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(vendor.Received + calls.Count(c => c.IsCompleted) == calls.Count),
            "every call is either held at the vendor or answered");
        vendor.Open();
        var responses = await Task.WhenAll(calls);

        // Each call reserves 0.001 USD (1000 output tokens) against a 0.01 USD cap: exactly 10 fit at once.
        var admitted = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.That(admitted, Is.EqualTo(10));
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
        Assert.That(refused.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("code").GetString()), Has.All.EqualTo("budget_exhausted"));
        if (path == "/v1/chat/completions")
        {
            // OpenAI's error shape too, which its SDKs read.
            Assert.That(refused.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("error").GetProperty("code").GetString()), Has.All.EqualTo("budget_exhausted"));
        }

        Assert.That(vendor.Received, Is.EqualTo(admitted));
    }
}
