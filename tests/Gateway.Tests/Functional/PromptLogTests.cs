using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// Prompt logs per route and client: off by default, <c>metadata</c> (size, SHA-256, message count — no content),
/// <c>sanitized</c> (the body with personal data, credentials and configured patterns replaced, cut to a length); a
/// client's mode wins over its route's; the line is written after the response, off the request path.
/// </summary>
public sealed class PromptLogTests : GatewayFixture
{
    private const string Category = "Gateway.PromptLog";

    private const string Sensitive =
        """{"model":"gpt-6-luna","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Mail jane.doe@example.com, card 4111 1111 1111 1111, ask EMP-123456."}]}""";

    protected override void EditOverrides(JsonObject overrides)
    {
        // Access lines through the logging providers (not the default stdout writer), so a test can see them beside the prompt lines.
        overrides["Gateway"]!["AccessLog"] = new JsonObject { ["Output"] = "logger" };
        overrides["Gateway"]!["PromptLogging"] = JsonNode.Parse("""
            {
              "Mode": "off",
              "MaxLength": 400,
              "Routes": { "anthropic": "metadata", "openai": "metadata" },
              "Clients": { "team-b": "sanitized" },
              "Patterns": { "EMPLOYEE_ID": "\\bEMP-\\d{6}\\b" }
            }
            """);
    }

    [SetUp]
    public void VendorsAnswer()
    {
        Vendors.Reset();
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost()).AtPriority(10)
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
        }
    }

    private async Task<string> CallAsync(string path, string client, string body)
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, path, Gateway.ClientKeys[client], body));
        await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        return response.Headers.GetValues("x-request-id").Single();
    }

    private async Task<LogRecord> LineAsync(string requestId)
    {
        LogRecord? line = null;
        await GatewayHost.WaitUntilAsync(() => Task.FromResult((line = Lines(requestId).SingleOrDefault()) is not null), "the prompt log line");
        return line!;
    }

    private List<LogRecord> Lines(string requestId)
        => [.. Gateway.Logs.Records.Where(r => r.Category == Category && (string?)r["trace_id"] == requestId)];

    [Test]
    public async Task SanitizedClient_LogsTheBodyRedacted_WithItsMetadata()
    {
        var id = await CallAsync(VendorCase.OpenAi.GatewayPath, "team-b", Sensitive);
        var line = await LineAsync(id);

        var prompt = (string)line["prompt"]!;
        Assert.Multiple(() =>
        {
            Assert.That(line["mode"], Is.EqualTo("sanitized"), "the client's mode wins over the openai route's metadata");
            Assert.That(line["client"], Is.EqualTo("team-b"));
            Assert.That(line["route"], Is.EqualTo("openai"));
            Assert.That(prompt, Does.Contain("[EMAIL]").And.Contain("[CARD]").And.Contain("[EMPLOYEE_ID]").And.Contain("Be brief."));
            Assert.That(Gateway.Logs.AllText, Does.Not.Contain("jane.doe@example.com").And.Not.Contain("4111 1111 1111 1111").And.Not.Contain("EMP-123456"));
            Assert.That(line["messages"], Is.EqualTo(2));
            Assert.That(line["bytes"], Is.EqualTo(Encoding.UTF8.GetByteCount(Sensitive)));
        });
    }

    [Test]
    public async Task MetadataRoute_LogsSizeHashAndMessages_NothingOfTheContent()
    {
        var body = VendorCase.Anthropic.RequestBody;
        var id = await CallAsync(VendorCase.Anthropic.GatewayPath, "team-a", body);
        var line = await LineAsync(id);

        Assert.Multiple(() =>
        {
            Assert.That(line["mode"], Is.EqualTo("metadata"));
            Assert.That(line["sha256"], Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)))));
            Assert.That(line["bytes"], Is.EqualTo(Encoding.UTF8.GetByteCount(body)));
            Assert.That(line["messages"], Is.EqualTo(1));
            Assert.That(line.Values.ContainsKey("prompt"), Is.False);
            Assert.That(line.Message, Does.Not.Contain("Summarize"));
        });
    }

    [Test]
    public async Task RouteWithoutAMode_LogsNothing()
    {
        var id = await CallAsync(VendorCase.Cohere.GatewayPath, "team-a", VendorCase.Cohere.RequestBody);
        // Its access line is written after a prompt line would have been queued; a later call's prompt line is written
        // after anything queued before it (one queue, one writer): once that one is there, none came for this call.
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(Gateway.Logs.Records.Any(r => r.Category == "Gateway.AccessLog" && (string?)r["trace_id"] == id)), "the access line");
        await LineAsync(await CallAsync(VendorCase.OpenAi.GatewayPath, "team-b", Sensitive));

        Assert.That(Lines(id), Is.Empty);
    }

    [Test]
    public async Task LongPrompt_IsCutToMaxLength()
    {
        var body = Sensitive.Replace("Be brief.", new string('x', 2000), StringComparison.Ordinal);
        var id = await CallAsync(VendorCase.OpenAi.GatewayPath, "team-b", body);
        var line = await LineAsync(id);

        Assert.That((string)line["prompt"]!, Has.Length.EqualTo(400 + "…[truncated]".Length));
    }

    [Test]
    public async Task SanitizedClient_LogsTheCompletionRedacted_AsTheCallerGotIt()
    {
        var answer = """{"id":"chatcmpl-Pii1","object":"chat.completion","created":1764300000,"model":"gpt-6-luna-2026-09-22","choices":[{"index":0,"message":{"role":"assistant","content":"Write to jane.doe@example.com about EMP-123456.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":9,"total_tokens":29}}""";
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(answer));
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-b"], Sensitive));
        var received = await response.Content.ReadAsByteArrayAsync();
        var line = await LineAsync(response.Headers.GetValues("x-request-id").Single());

        var completion = (string)line["completion"]!;
        Assert.Multiple(() =>
        {
            Assert.That(completion, Does.Contain("Write to [EMAIL] about [EMPLOYEE_ID].").And.Contain("chatcmpl-Pii1"));
            Assert.That(line["completion_bytes"], Is.EqualTo((long)received.Length));
            Assert.That(line["completion_sha256"], Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(received))));
            Assert.That(Gateway.Logs.AllText, Does.Not.Contain("jane.doe@example.com").And.Not.Contain("EMP-123456"));
        });
    }

    [Test]
    public async Task MetadataRoute_LogsTheCompletionsSizeAndHash_NothingOfItsContent()
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, VendorCase.Anthropic.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.Anthropic.RequestBody));
        var received = await response.Content.ReadAsByteArrayAsync();
        var line = await LineAsync(response.Headers.GetValues("x-request-id").Single());

        Assert.That(line["completion_bytes"], Is.EqualTo((long)received.Length));
        Assert.That(line["completion_sha256"], Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(received))));
        Assert.That(line.Values.ContainsKey("completion"), Is.False);
    }

    [Test]
    public async Task StreamedNormalizedAnswer_IsLoggedWhole_AfterTheStream()
    {
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).WithBody(b => b != null && b.Contains("\"stream\":true")).UsingPost()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.StreamFixture)));
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-b"],
            """{"model": "openai/gpt-6-luna", "prompt": "Summarize the following email.", "stream": true}"""));
        var received = await response.Content.ReadAsStringAsync();
        var line = await LineAsync(response.Headers.GetValues("x-request-id").Single());

        Assert.That(received, Does.Contain("event: done"));
        Assert.That((string)line["completion"]!, Does.Contain("event: delta").And.Contain("event: done"));
        Assert.That(line["completion_bytes"], Is.EqualTo((long)Encoding.UTF8.GetByteCount(received)));
    }
}
