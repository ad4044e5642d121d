using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

public sealed class PassthroughTests : GatewayFixture
{

    [SetUp]
    public void ResetVendors() => Vendors.Reset();

    private static IEnumerable<VendorCase> AllVendors => VendorCase.All;

    [TestCaseSource(nameof(AllVendors))]
    public async Task Passthrough_InjectsVendorKeyAndStripsCallerCredentials(VendorCase vendor)
    {
        var fake = Vendors[vendor.Vendor];
        var body = vendor.ReadFixture(vendor.ResponseFixture);
        fake.Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200)
                .WithHeader("Content-Type", "application/json")
                .WithHeader("x-request-id", "req_vendor_7f3a")
                .WithHeader("x-ratelimit-remaining-requests", "4999")
                .WithBody(body));

        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody);
        request.Headers.Add("x-api-key", "caller-x-api-key-secret");
        request.Headers.Add("api-key", "caller-azure-key-secret");
        request.Headers.Add("Cookie", "session=caller-cookie-secret");
        request.Headers.Add("Proxy-Authorization", "Basic caller-proxy-secret");
        request.Headers.Add("X-Forwarded-For", "10.20.30.40");
        request.Headers.Add("X-Forwarded-Host", "ai-gateway.internal.corp");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("Forwarded", "for=10.20.30.40;host=ai-gateway.internal.corp");
        request.Headers.Add("X-Real-IP", "10.20.30.40");
        request.Headers.Add("X-Custom-Tag", "not on the allowlist");
        request.Headers.Add("x-gateway-user", "alice@corp");
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");

        using var response = await Gateway.Client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(body), "the vendor's body reaches the caller unchanged");
        Assert.Multiple(() =>
        {
            Assert.That(response.Content.Headers.ContentType!.ToString(), Is.EqualTo("application/json"));
            Assert.That(response.Headers.GetValues("x-ratelimit-remaining-requests"), Is.EqualTo(new[] { "4999" }));
            Assert.That(response.Headers.GetValues("x-request-id").Single(), Is.EqualTo(traceId), "the gateway's request id is the W3C trace id");
            Assert.That(response.Headers.GetValues("x-vendor-request-id").Single(), Is.EqualTo("req_vendor_7f3a"), "the vendor's own id is kept");
        });

        var received = fake.LogEntries.Single().RequestMessage!;
        var headers = received.Headers!.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        Assert.Multiple(() =>
        {
            Assert.That(headers[vendor.CredentialHeader], Is.EqualTo(vendor.CredentialPrefix + Gateway.VendorKeys[vendor.Vendor]));
            Assert.That(headers.Keys, Has.None.StartsWith("X-Forwarded-").IgnoreCase.And.None.StartsWith("x-gateway-").IgnoreCase);
            Assert.That(headers.Keys, Has.None.EqualTo("Forwarded").IgnoreCase.Or.EqualTo("X-Real-IP").IgnoreCase
                .Or.EqualTo("Cookie").IgnoreCase.Or.EqualTo("api-key").IgnoreCase.Or.EqualTo("Proxy-Authorization").IgnoreCase);
            Assert.That(headers.Values, Has.None.Contains(Gateway.ClientKeys["team-a"]), "the caller's gateway key never reaches the vendor");
            Assert.That(headers.Values, Has.None.Contains("caller-").And.None.Contains("10.20.30.40").And.None.Contains("internal.corp"));
            Assert.That(headers.Keys, Has.None.EqualTo("X-Custom-Tag").IgnoreCase, "only allowlisted headers are forwarded");
            Assert.That(headers["traceparent"], Does.StartWith($"00-{traceId}-"), "trace context is forwarded to the vendor");
            Assert.That(headers["Host"], Is.EqualTo(new Uri(fake.Url!).Authority));
            Assert.That(received.Body, Is.EqualTo(vendor.RequestBody));
        });
        if (vendor == VendorCase.Anthropic)
        {
            Assert.That(headers["anthropic-version"], Is.EqualTo("2023-06-01"), "added when the caller sent none");
            Assert.That(headers.Keys, Has.None.EqualTo("Authorization").IgnoreCase);
        }
        else
        {
            Assert.That(headers.Keys, Has.None.EqualTo("x-api-key").IgnoreCase);
        }
    }

    [TestCaseSource(nameof(AllVendors))]
    public async Task Passthrough_ClientKeyInXApiKeyHeader_IsAccepted(VendorCase vendor)
    {
        Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));

        using var request = Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody, useApiKeyHeader: true);
        using var response = await Gateway.Client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var headers = Vendors[vendor.Vendor].LogEntries.Single().RequestMessage!.Headers!;
        Assert.That(headers.Values.SelectMany(v => v), Has.None.Contains(Gateway.ClientKeys["team-a"]));
    }

    [Test]
    public async Task Passthrough_CallerAnthropicVersion_IsKept()
    {
        var vendor = VendorCase.Anthropic;
        Vendors.Anthropic.Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(vendor.ReadFixture(vendor.ResponseFixture)));

        using var request = Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody, useApiKeyHeader: true);
        request.Headers.Add("anthropic-version", "2024-01-01");
        request.Headers.Add("anthropic-beta", "prompt-caching-2024-07-31");
        using var response = await Gateway.Client.SendAsync(request);

        var headers = Vendors.Anthropic.LogEntries.Single().RequestMessage!.Headers!;
        Assert.That(string.Join(",", headers["anthropic-version"]), Is.EqualTo("2024-01-01"));
        Assert.That(string.Join(",", headers["anthropic-beta"]), Is.EqualTo("prompt-caching-2024-07-31"));
    }

    [TestCaseSource(nameof(AllVendors))]
    public async Task Passthrough_VendorError_ReachesCallerUnchanged(VendorCase vendor)
    {
        const string errorBody = """{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";
        // A wait above the retry cap (30 s by default): the gateway does not try again, the caller gets the answer at once.
        Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Content-Type", "application/json").WithHeader("retry-after", "120").WithBody(errorBody));

        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody));

        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/json"));
            Assert.That(response.Headers.RetryAfter!.Delta, Is.EqualTo(TimeSpan.FromSeconds(120)));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(errorBody));
        });
    }

    [Test]
    public async Task Passthrough_CallerWithoutTraceContext_VendorGetsTheGatewaysTrace()
    {
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));

        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));

        var requestId = response.Headers.GetValues("x-request-id").Single();
        var traceparent = Vendors.OpenAi.LogEntries.Single().RequestMessage!.Headers!["traceparent"].Single();
        Assert.That(traceparent, Does.Match($"^00-{requestId}-[0-9a-f]{{16}}-0[01]$"));
    }

    [Test]
    public async Task Passthrough_GetWithQuery_KeepsPathAndQuery()
    {
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/models").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""{"object":"list","data":[{"id":"gpt-6-luna","object":"model","created":1721172741,"owned_by":"system"}]}"""));

        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Get, "/api/ai/openai/v1/models?limit=2&after=x", Gateway.ClientKeys["team-a"]));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var received = Vendors.OpenAi.LogEntries.Single().RequestMessage!;
        Assert.That(received.Path, Is.EqualTo("/v1/models"));
        Assert.That(received.RawQuery, Is.EqualTo("?limit=2&after=x"));
    }

    [Test]
    public async Task Passthrough_VendorUnreachable_Is502Problem()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["openai"] = "http://127.0.0.1:9/" });
        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "vendor_unavailable", "POST " + VendorCase.OpenAi.GatewayPath);

        // With the shipped retries (3 attempts a call) and breaker (opens at 5 failed attempts), the second call's second
        // failure opens openai's breaker: its third attempt is not made, and the answer says the vendor is unavailable
        // without calling it (503, Retry-After).
        using var normalized = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/ai/generate", gateway.ClientKeys["team-a"], "{\"prompt\":\"Hi\"}"));
        await ProblemAssert.IsProblemAsync(normalized, HttpStatusCode.ServiceUnavailable, "vendor_unavailable", "POST /v1/ai/generate");
        Assert.That(normalized.Headers.GetValues("x-gateway-attempts"), Is.EqualTo(new[] { "2" }));
        Assert.That(normalized.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero));
    }

    private static readonly string[] InternalOnlyHeaders =
    [
        "X-Vault-Token", "X-Auth-Token", "True-Client-IP", "X-Cluster-Client-IP", "CF-Connecting-IP", "X-Envoy-External-Address", "Client-IP",
        "X-ProxyUser-Ip", "X-Amzn-Trace-Id", "baggage", "tracestate", "Referer", "Origin", "X-HTTP-Method-Override", "OpenAI-Organization",
        "OpenAI-Project", "X-Internal-Hop", "Accept-Encoding",
    ];

    [TestCaseSource(nameof(AllVendors))]
    public async Task Passthrough_ForwardsAnAllowlist_NotWhatCallersAdd(VendorCase vendor)
    {
        var fake = Vendors[vendor.Vendor];
        fake.Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));

        using var request = Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody);
        foreach (var name in InternalOnlyHeaders.Where(n => n != "Accept-Encoding"))
        {
            request.Headers.TryAddWithoutValidation(name, "internal-" + name.ToLowerInvariant());
        }

        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        request.Headers.TryAddWithoutValidation("Connection", "X-Internal-Hop, anthropic-beta");
        request.Headers.TryAddWithoutValidation("User-Agent", "billing-service/2.3 (host=billing-7f9c.internal.corp)");
        request.Headers.TryAddWithoutValidation("x-stainless-lang", "js");
        request.Headers.TryAddWithoutValidation("OpenAI-Beta", "assistants=v2");
        request.Headers.TryAddWithoutValidation("X-Client-Name", "reports");
        request.Headers.TryAddWithoutValidation("anthropic-beta", "named-in-connection");
        request.Headers.TryAddWithoutValidation("Accept", "application/json");
        using var response = await Gateway.Client.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var headers = fake.LogEntries.Single().RequestMessage!.Headers!.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        Assert.Multiple(() =>
        {
            foreach (var name in InternalOnlyHeaders.Append("anthropic-beta"))
            {
                Assert.That(headers.Keys, Has.None.EqualTo(name).IgnoreCase, name + " stays inside");
            }

            Assert.That(headers.Values, Has.None.Contains("internal").IgnoreCase.And.None.Contains("billing-service"));
            Assert.That(headers["Accept"], Is.EqualTo("application/json"));
            Assert.That(headers["Content-Type"], Does.StartWith("application/json"));
            Assert.That(headers["Content-Length"], Is.EqualTo(vendor.RequestBody.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(headers["User-Agent"], Is.EqualTo("ai-integration-gateway"));
            Assert.That(headers["traceparent"], Does.Match("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$"));
            var own = vendor.Vendor switch
            {
                "openai" => new[] { "x-stainless-lang", "OpenAI-Beta" },
                "anthropic" => new[] { "x-stainless-lang" },
                _ => new[] { "X-Client-Name" },
            };
            foreach (var name in own)
            {
                Assert.That(headers.Keys, Has.Some.EqualTo(name).IgnoreCase, name + " is the vendor API's own");
            }
        });
    }

    [Test]
    public async Task Passthrough_OrganizationAndProject_ComeFromConfiguration_PerProviderOrClient()
    {
        await using var gateway = await GatewayHost.StartAsync(Vendors.Addresses, editOverrides: o =>
        {
            o["Gateway"]!["Providers"]!["openai"]!["Headers"] = new System.Text.Json.Nodes.JsonObject { ["OpenAI-Organization"] = "org-gateway", ["OpenAI-Project"] = "proj_shared" };
            o["Gateway"]!["Clients"]!["team-b"]!["ProviderHeaders"] = new System.Text.Json.Nodes.JsonObject
            {
                ["openai"] = new System.Text.Json.Nodes.JsonObject { ["OpenAI-Project"] = "proj_team_b" },
            };
        });
        Vendors.OpenAi.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));

        foreach (var (client, path) in new[] { ("team-a", VendorCase.OpenAi.GatewayPath), ("team-b", VendorCase.OpenAi.GatewayPath), ("team-b", "/v1/ai/generate") })
        {
            using var request = gateway.Request(HttpMethod.Post, path, gateway.ClientKeys[client], path.StartsWith("/v1/ai", StringComparison.Ordinal) ? "{\"prompt\":\"Hi\"}" : VendorCase.OpenAi.RequestBody);
            request.Headers.TryAddWithoutValidation("OpenAI-Organization", "org-chosen-by-caller");
            request.Headers.TryAddWithoutValidation("OpenAI-Project", "proj_chosen_by_caller");
            using var response = await gateway.Client.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var sent = Vendors.OpenAi.LogEntries.Select(e => (Org: e.RequestMessage!.Headers!["OpenAI-Organization"].Single(), Project: e.RequestMessage.Headers["OpenAI-Project"].Single())).ToList();
        Assert.That(sent, Is.EqualTo(new[] { ("org-gateway", "proj_shared"), ("org-gateway", "proj_team_b"), ("org-gateway", "proj_team_b") }));
    }

    [TestCaseSource(nameof(AllVendors))]
    public async Task Passthrough_VendorAccountAndServerHeaders_DoNotReachCallers(VendorCase vendor)
    {
        Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithHeader("Set-Cookie", "__cf_bm=vendor-cookie; path=/")
                .WithHeader("Server", "cloudflare")
                .WithHeader("X-Powered-By", "Express")
                .WithHeader("openai-organization", "org-gateway-account")
                .WithHeader("openai-project", "proj_gateway_account")
                .WithHeader("anthropic-organization-id", "0d6b-gateway-account")
                .WithHeader("x-ratelimit-limit-requests", "5000")
                .WithBody(vendor.ReadFixture(vendor.ResponseFixture)));

        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, vendor.GatewayPath, Gateway.ClientKeys["team-a"], vendor.RequestBody));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var names = response.Headers.Select(h => h.Key).Concat(response.Content.Headers.Select(h => h.Key)).ToList();
        Assert.That(names, Has.None.EqualTo("Set-Cookie").IgnoreCase.And.None.EqualTo("Server").IgnoreCase.And.None.EqualTo("X-Powered-By").IgnoreCase
            .And.None.EqualTo("openai-organization").IgnoreCase.And.None.EqualTo("openai-project").IgnoreCase.And.None.EqualTo("anthropic-organization-id").IgnoreCase);
        Assert.That(response.Headers.GetValues("x-ratelimit-limit-requests").Single(), Is.EqualTo("5000"), "the vendor's rate-limit headers still help callers back off");
    }

    [TestCase("/api/ai/openai/v1/models/ft%3Agpt-6-luna%2Fteam-a", "/v1/models/ft%3Agpt-6-luna%2Fteam-a")]
    [TestCase("/api/ai/openai/v1/models//gpt-6-luna", "/v1/models//gpt-6-luna")]
    [TestCase("/api/ai/openai/v1/models/a/../gpt-6-luna", "/v1/models/gpt-6-luna")]
    [TestCase("/api/ai/openai/v1/models/a/%2e%2e/gpt-6-luna", "/v1/models/gpt-6-luna")]
    [TestCase("/api/ai/openai/v1/models/caf%C3%A9%20au%20lait", "/v1/models/caf%C3%A9%20au%20lait")]
    [TestCase("/api/ai/openai/v1/models/", "/v1/models/")]
    public async Task Passthrough_Path_IsForwardedAsTheCallerWroteIt(string gatewayPath, string vendorPath)
    {
        using var vendor = new RawVendor();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["openai"] = vendor.Address });

        var response = await RawHttp.SendAsync(gateway.BaseAddress, $"GET {gatewayPath}?x=%2F1&y=a+b HTTP/1.1\r\nAuthorization: Bearer {gateway.ClientKeys["team-a"]}");

        Assert.That(response.Status, Is.EqualTo(200), response.Body);
        Assert.That(vendor.RequestLines.Single(), Is.EqualTo($"GET {vendorPath}?x=%2F1&y=a+b HTTP/1.1"), "escapes are not escaped again; slashes and the query are kept");
    }

    [Test]
    public async Task Passthrough_DotSegmentBehindAnEncodedSlash_Is400()
    {
        var response = await RawHttp.SendAsync(Gateway.BaseAddress,
            $"GET /api/ai/openai/v1/models/x%2F..%2F..%2Forganization%2Fadmin_api_keys HTTP/1.1\r\nAuthorization: Bearer {Gateway.ClientKeys["team-a"]}");

        Assert.That(response.Status, Is.EqualTo(400), response.Body);
        Assert.That(Vendors.OpenAi.LogEntries, Is.Empty);
    }

    [TestCase("GET", "/api/ai/openai/v1/files/file-abc123/content", 403)]
    [TestCase("DELETE", "/api/ai/openai/v1/files/file-abc123", 403)]
    [TestCase("GET", "/api/ai/openai/v1/organization/admin_api_keys", 403)]
    [TestCase("POST", "/api/ai/openai/v1/fine_tuning/jobs", 403)]
    [TestCase("POST", "/api/ai/openai/v1/batches", 403)]
    [TestCase("GET", "/api/ai/openai/v1/chat/completions", 405)]
    [TestCase("POST", "/api/ai/openai/v1/chat/completions/chatcmpl-123", 403)]
    [TestCase("DELETE", "/api/ai/openai/v1/models/ft:gpt-6-luna:acme::abc", 405)]
    [TestCase("POST", "/api/ai/anthropic/v1/messages/batches", 403)]
    [TestCase("GET", "/api/ai/anthropic/v1/files", 403)]
    [TestCase("GET", "/api/ai/anthropic/v1/organizations/api_keys", 403)]
    [TestCase("POST", "/api/ai/cohere/v1/datasets", 403)]
    [TestCase("POST", "/api/ai/cohere/v1/finetuning/finetuned-models", 403)]
    public async Task Passthrough_CallsOutsideTheRoutesAllowlist_AreRefused_AndNoVendorIsCalled(string method, string path, int status)
    {
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        }

        using var response = await Gateway.Client.SendAsync(Gateway.Request(new HttpMethod(method), path, Gateway.ClientKeys["team-a"], method == "POST" ? "{}" : null));

        var problem = await ProblemAssert.IsProblemAsync(response, (HttpStatusCode)status, status == 403 ? "forbidden" : "method_not_allowed", $"{method} {path}");
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("PassthroughAllow").Or.Contain("forwards"));
        if (status == 405)
        {
            Assert.That(response.Content.Headers.Allow, Is.Not.Empty);
        }

        Assert.That(Vendors.OpenAi.LogEntries.Concat(Vendors.Anthropic.LogEntries).Concat(Vendors.Cohere.LogEntries), Is.Empty);
    }

    [TestCase("POST", "/api/ai/openai/v1/chat/completions")]
    [TestCase("POST", "/api/ai/openai/v1/embeddings")]
    [TestCase("POST", "/api/ai/openai/v1/responses")]
    [TestCase("POST", "/api/ai/openai/v1/responses/input_tokens")]
    [TestCase("POST", "/api/ai/openai/v1/completions")]
    [TestCase("GET", "/api/ai/openai/v1/models")]
    [TestCase("GET", "/api/ai/openai/v1/models/gpt-6-luna")]
    [TestCase("POST", "/api/ai/anthropic/v1/messages")]
    [TestCase("POST", "/api/ai/anthropic/v1/messages/count_tokens")]
    [TestCase("GET", "/api/ai/anthropic/v1/models")]
    [TestCase("POST", "/api/ai/cohere/v2/chat")]
    [TestCase("POST", "/api/ai/cohere/v2/embed")]
    [TestCase("POST", "/api/ai/cohere/v1/tokenize")]
    [TestCase("GET", "/api/ai/cohere/v1/models")]
    public async Task Passthrough_DefaultAllowlist_ForwardsModelCalls(string method, string path)
    {
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        }

        using var response = await Gateway.Client.SendAsync(Gateway.Request(new HttpMethod(method), path, Gateway.ClientKeys["team-a"], method == "POST" ? "{}" : null));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Vendors.OpenAi.LogEntries.Concat(Vendors.Anthropic.LogEntries).Concat(Vendors.Cohere.LogEntries).Single().RequestMessage!.Path,
            Is.EqualTo(path[path.IndexOf("/v", 8, StringComparison.Ordinal)..]));
    }

    [Test]
    public async Task Passthrough_RouteMetadata_EnablesMoreCalls()
    {
        await using var gateway = await GatewayHost.StartAsync(Vendors.Addresses, editProxy: p =>
            p["ReverseProxy"]!["Routes"]!["openai"]!["Metadata"] = new System.Text.Json.Nodes.JsonObject { ["PassthroughAllow"] = "defaults, GET /v1/files/**" });
        Vendors.OpenAi.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));

        using var files = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, "/api/ai/openai/v1/files/file-abc/content", gateway.ClientKeys["team-a"]));
        using var chat = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
        using var delete = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Delete, "/api/ai/openai/v1/files/file-abc", gateway.ClientKeys["team-a"]));

        Assert.That((files.StatusCode, chat.StatusCode, delete.StatusCode), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.MethodNotAllowed)));
    }

    [Test]
    public async Task UnknownRoute_Is404Problem()
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/api/ai/mistral/v1/chat", Gateway.ClientKeys["team-a"], "{}"));
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, "not_found", "POST /api/ai/mistral/v1/chat");
    }

    [Test]
    public async Task Health_LiveAndReady_Answer200()
    {
        using var live = await Gateway.Client.GetAsync("/healthz/live");
        using var ready = await Gateway.Client.GetAsync("/healthz/ready");
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await ready.Content.ReadAsStringAsync(), Does.Contain("\"status\":\"Healthy\""));
        Assert.That(live.Headers.Contains("x-request-id"), Is.True);
    }
}
