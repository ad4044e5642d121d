using System.ClientModel;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Auth;
using Gateway.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// The OpenAI-compatible chat completions API (<c>/v1/chat/completions</c>) driven by the official OpenAI .NET SDK with a
/// gateway client key: each vendor reached by a model alias, plain and streamed, the request translated to the vendor's
/// shape and the answer back to OpenAI's; what a vendor cannot take, and malformed requests, refused in OpenAI's error
/// shape; the same limits as the other routes.
/// </summary>
public sealed class ChatCompletionsApiTests : GatewayFixture
{
    private const string Text = "Customer requests invoice review and Q3 delivery confirmation.";
    private readonly string _limitedKey = ClientKeyHasher.NewKey();

    /// <summary>A vendor as the compatible API reaches it: the alias, the model it stands for, the fixture's answering model and usage.</summary>
    public sealed record Case(VendorCase Vendor, string Alias, string ModelId, string AnsweringModel, int InputTokens, int OutputTokens)
    {
        public override string ToString() => Vendor.Vendor;
    }

    public static IEnumerable<Case> Cases =>
    [
        new(VendorCase.OpenAi, "default", "gpt-6-luna", "gpt-6-luna-2026-09-22", 28, 11),
        new(VendorCase.Anthropic, "smart", "claude-sonnet-5-5", "claude-sonnet-5-5-20260929", 25, 12),
        new(VendorCase.Cohere, "command", "command-r-08-2024", "command-r-08-2024", 12, 9),
    ];

    protected override void EditOverrides(JsonObject overrides)
    {
        var gateway = overrides["Gateway"]!;
        gateway["Clients"]!["team-limited"] = new JsonObject { ["KeySha256"] = ClientKeyHasher.HashHex(_limitedKey), ["RateLimitPolicy"] = "one-a-minute" };
        gateway["RateLimiting"] = new JsonObject
        {
            ["Policies"] = new JsonObject { ["one-a-minute"] = new JsonObject { ["Requests"] = 1, ["Tokens"] = 1_000_000, ["Window"] = "00:01:00" } },
        };
    }

    [OneTimeSetUp]
    public void VendorsAnswer()
    {
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).WithBody(b => b != null && !b.Contains("\"stream\":true")).UsingPost()).AtPriority(10)
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
            Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).WithBody(b => b != null && b.Contains("\"stream\":true")).UsingPost()).AtPriority(10)
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(vendor.ReadFixture(vendor.StreamFixture)));
        }
    }

    [SetUp]
    public void ForgetCalls()
    {
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].ResetLogEntries();
        }
    }

    private ChatClient Sdk(string model, string? key = null) => Sdk(Gateway, model, key);

    /// <summary>The OpenAI SDK's chat client pointed at the gateway's /v1 with a client key (team-a's unless told), no SDK retries.</summary>
    internal static ChatClient Sdk(GatewayHost gateway, string model, string? key = null) => new(model, new ApiKeyCredential(key ?? gateway.ClientKeys["team-a"]),
        new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseAddress, "/v1"), RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });

    private JsonObject VendorRequest(Case vendor) => JsonNode.Parse(Vendors[vendor.Vendor.Vendor].LogEntries.Single().RequestMessage!.Body!)!.AsObject();

    [TestCaseSource(nameof(Cases))]
    public async Task OpenAiSdk_Plain_ReachesTheVendorByAlias_AndReadsOpenAisShape(Case vendor)
    {
        // The Anthropic alias is configured not to take a temperature (AcceptsTemperature: false).
        var temperature = vendor.Vendor == VendorCase.Anthropic ? (float?)null : 0.5f;
        var options = new ChatCompletionOptions { Temperature = temperature, TopP = 0.9f, MaxOutputTokenCount = 300 };
        options.StopSequences.Add("END");
        ChatCompletion completion = await Sdk(vendor.Alias).CompleteChatAsync(
            [new SystemChatMessage("Answer in one sentence."), new UserChatMessage("Summarize the following email."), new AssistantChatMessage("Which email?"), new UserChatMessage("The invoice one.")], options);

        Assert.Multiple(() =>
        {
            Assert.That(completion.Content.Single().Text, Is.EqualTo(Text));
            Assert.That(completion.Role, Is.EqualTo(ChatMessageRole.Assistant));
            Assert.That(completion.FinishReason, Is.EqualTo(ChatFinishReason.Stop));
            Assert.That(completion.Model, Is.EqualTo(vendor.AnsweringModel));
            Assert.That(completion.Id, Does.StartWith("chatcmpl-"));
            Assert.That(completion.Usage.InputTokenCount, Is.EqualTo(vendor.InputTokens));
            Assert.That(completion.Usage.OutputTokenCount, Is.EqualTo(vendor.OutputTokens));
            Assert.That(completion.Usage.TotalTokenCount, Is.EqualTo(vendor.InputTokens + vendor.OutputTokens));
        });

        // The vendor got its own shape: the model the alias stands for, the system instruction where it goes, the
        // conversation in order, the sampling parameters under the vendor's names — and no format instruction of the gateway's.
        var sent = VendorRequest(vendor);
        Assert.That(sent["model"]!.GetValue<string>(), Is.EqualTo(vendor.ModelId));
        Assert.That(sent["temperature"]?.GetValue<double>(), Is.EqualTo((double?)temperature), "0.5 is exact in binary");
        var turns = sent["messages"]!.AsArray().Select(m => (m!["role"]!.GetValue<string>(), m["content"]!.GetValue<string>())).ToList();
        var conversation = new[] { ("user", "Summarize the following email."), ("assistant", "Which email?"), ("user", "The invoice one.") };
        if (vendor.Vendor == VendorCase.Anthropic)
        {
            Assert.That(sent["system"]!.GetValue<string>(), Is.EqualTo("Answer in one sentence."));
            Assert.That(turns, Is.EqualTo(conversation));
            Assert.That((sent["max_tokens"]!.GetValue<int>(), sent["top_p"]!.GetValue<double>(), sent["stop_sequences"]!.AsArray().Single()!.GetValue<string>()),
                Is.EqualTo((300, 0.9, "END")));
        }
        else
        {
            Assert.That(turns, Is.EqualTo(conversation.Prepend(("system", "Answer in one sentence."))));
            var (tokens, topP, stop) = vendor.Vendor == VendorCase.OpenAi ? ("max_completion_tokens", "top_p", "stop") : ("max_tokens", "p", "stop_sequences");
            Assert.That((sent[tokens]!.GetValue<int>(), sent[topP]!.GetValue<double>(), sent[stop]!.AsArray().Single()!.GetValue<string>()), Is.EqualTo((300, 0.9, "END")));
        }
    }

    [TestCaseSource(nameof(Cases))]
    public async Task OpenAiSdk_Streamed_GetsTheTextInChunks_TheFinishReason_AndTheUsageChunk(Case vendor)
    {
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        var ids = new HashSet<string>();
        await foreach (var update in Sdk(vendor.Alias).CompleteChatStreamingAsync([new UserChatMessage("Summarize the following email.")]))
        {
            ids.Add(update.CompletionId);
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Multiple(() =>
        {
            Assert.That(text.ToString(), Is.EqualTo(Text));
            Assert.That(finish, Is.EqualTo(ChatFinishReason.Stop));
            Assert.That(usage?.InputTokenCount, Is.EqualTo(vendor.InputTokens));
            Assert.That(usage?.OutputTokenCount, Is.EqualTo(vendor.OutputTokens));
            Assert.That(ids, Has.Count.EqualTo(1).And.All.StartsWith("chatcmpl-"), "one id for every chunk");
        });
        Assert.That(VendorRequest(vendor)["stream"]!.GetValue<bool>(), Is.True);
    }

    [Test]
    public async Task RawStream_IsOpenAisChunkSequence_WithTheUsageChunkOnlyWhenAskedFor_ThenDone()
    {
        async Task<List<string>> DataLinesAsync(bool includeUsage)
        {
            var body = $$"""{"model": "smart", "stream": true, {{(includeUsage ? "\"stream_options\": {\"include_usage\": true}," : "")}} "messages": [{"role": "user", "content": "Hi"}]}""";
            using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/chat/completions", Gateway.ClientKeys["team-a"], body));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
            return [.. (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..])];
        }

        var withUsage = await DataLinesAsync(includeUsage: true);
        Assert.That(withUsage[^1], Is.EqualTo("[DONE]"));
        var chunks = withUsage[..^1].Select(l => JsonNode.Parse(l)!).ToList();
        Assert.That(chunks.Select(c => c["object"]!.GetValue<string>()), Is.All.EqualTo("chat.completion.chunk"));
        Assert.That(chunks[0]["choices"]![0]!["delta"]!.ToJsonString(), Is.EqualTo("""{"role":"assistant","content":""}"""));
        Assert.That(chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>(), Is.EqualTo("stop"));
        Assert.That(chunks[^1]["choices"]!.AsArray(), Is.Empty);
        Assert.That(chunks[^1]["usage"]!.ToJsonString(), Is.EqualTo("""{"prompt_tokens":25,"completion_tokens":12,"total_tokens":37}"""));
        Assert.That(chunks[..^1].Select(c => c["usage"]), Is.All.Null, "usage is null on every other chunk");

        var withoutUsage = await DataLinesAsync(includeUsage: false);
        Assert.That(withoutUsage, Has.Count.EqualTo(withUsage.Count - 1));
        Assert.That(withoutUsage.Where(l => l.Contains("\"usage\"", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public async Task OpenAiSdk_ModelsList_ShowsTheAliasesAndModelsTheClientMayUse()
    {
        var client = new OpenAIModelClient(new ApiKeyCredential(Gateway.ClientKeys["team-b"]), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });
        var models = (await client.GetModelsAsync()).Value.Select(m => (m.Id, m.OwnedBy)).ToList();
        Assert.That(models, Is.EqualTo(new[] { ("default", "openai"), ("openai/gpt-6-luna", "openai") }), "team-b may use openai only");

        var all = new OpenAIModelClient(new ApiKeyCredential(Gateway.ClientKeys["team-a"]), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1") });
        Assert.That((await all.GetModelsAsync()).Value.Select(m => m.Id), Is.SupersetOf(new[] { "default", "fast", "smart", "command", "anthropic/claude-sonnet-5-5", "cohere/command-r-08-2024" }));

        using var anonymous = await Gateway.Client.GetAsync("/v1/models");
        Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(JsonNode.Parse(await anonymous.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>(), Is.EqualTo("unauthenticated"));
    }

#pragma warning disable OPENAI001 // Seed is an evaluation API of the SDK; the parameter itself is stable in the HTTP API.
    [Test]
    public async Task OpenAiSdk_AParameterTheVendorCannotTake_IsA400NamingItAndTheVendor()
    {
        var error = (await Assert.ThrowsAsync<ClientResultException>(() => Sdk("smart").CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { Seed = 7 })))!;
        Assert.That(error.Status, Is.EqualTo(400));
        Assert.That(error.Message, Does.Contain("seed: is not supported by anthropic").And.Contain("validation_failed"));
        Assert.That(Vendors.Anthropic.LogEntries, Is.Empty);

        // The same parameter goes through to a vendor that takes it.
        await Sdk("command").CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { Seed = 7 });
        Assert.That(JsonNode.Parse(Vendors.Cohere.LogEntries.Single().RequestMessage!.Body!)!["seed"]!.GetValue<long>(), Is.EqualTo(7));
    }
#pragma warning restore OPENAI001

    [Test]
    public async Task Limits_ApplyToThisRoute_InOpenAisErrorShape()
    {
        await Sdk("default", _limitedKey).CompleteChatAsync([new UserChatMessage("Hi")]);
        var error = (await Assert.ThrowsAsync<ClientResultException>(() => Sdk("default", _limitedKey).CompleteChatAsync([new UserChatMessage("Hi")])))!;
        Assert.That(error.Status, Is.EqualTo(429));
        var body = JsonNode.Parse(error.GetRawResponse()!.Content.ToString())!;
        Assert.That(body["error"]!["code"]!.GetValue<string>(), Is.EqualTo("rate_limited"));
        Assert.That(body["error"]!["type"]!.GetValue<string>(), Is.EqualTo("rate_limit_error"));
        Assert.That(error.GetRawResponse()!.Headers.TryGetValue("Retry-After", out _), Is.True);
    }

    [TestCaseSource(nameof(Cases))]
    public async Task OpenAiSdk_JsonSchemaResponse_IsAskedForInEachVendorsOwnWay_AndTheJsonComesBackAsItIs(Case vendor)
    {
        const string schema = """{"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"],"additionalProperties":false}""";
        const string answer = """{"summary":"Invoice review and Q3 delivery confirmation requested."}""";
        var escaped = JsonSerializer.Serialize(answer);
        var body = vendor.Vendor.Vendor switch
        {
            "openai" => $$$$"""{"id":"chatcmpl-Json1","object":"chat.completion","created":1764300000,"model":"gpt-6-luna-2026-09-22","choices":[{"index":0,"message":{"role":"assistant","content":{{{{escaped}}}},"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":40,"completion_tokens":14,"total_tokens":54}}""",
            "anthropic" => $$$$"""{"id":"msg_json1","type":"message","role":"assistant","model":"claude-sonnet-5-5-20260929","content":[{"type":"text","text":{{{{escaped}}}}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":40,"output_tokens":14}}""",
            _ => $$$$"""{"id":"7f6c2a9e-json","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":{{{{escaped}}}}}]},"usage":{"billed_units":{"input_tokens":40,"output_tokens":14},"tokens":{"input_tokens":45,"output_tokens":14}}}""",
        };
        Vendors[vendor.Vendor.Vendor].Given(Request.Create().WithPath(vendor.Vendor.VendorPath).WithBody(b => b != null && b.Contains("additionalProperties")).UsingPost()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body));

        var options = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("summary", BinaryData.FromString(schema), jsonSchemaIsStrict: true) };
        ChatCompletion completion = await Sdk(vendor.Alias).CompleteChatAsync([new UserChatMessage("Summarize the following email as JSON.")], options);
        Assert.That(completion.Content.Single().Text, Is.EqualTo(answer));
        Assert.That(JsonNode.Parse(completion.Content.Single().Text)!["summary"]!.GetValue<string>(), Does.StartWith("Invoice review"));

        var sent = VendorRequest(vendor);
        var expectedSchema = JsonNode.Parse(schema)!.ToJsonString();
        switch (vendor.Vendor.Vendor)
        {
            case "openai":
                Assert.That(sent["response_format"]!["type"]!.GetValue<string>(), Is.EqualTo("json_schema"));
                Assert.That((sent["response_format"]!["json_schema"]!["name"]!.GetValue<string>(), sent["response_format"]!["json_schema"]!["strict"]!.GetValue<bool>()), Is.EqualTo(("summary", true)));
                Assert.That(sent["response_format"]!["json_schema"]!["schema"]!.ToJsonString(), Is.EqualTo(expectedSchema));
                break;
            case "anthropic":
                Assert.That(sent["output_config"]!["format"]!["type"]!.GetValue<string>(), Is.EqualTo("json_schema"));
                Assert.That(sent["output_config"]!["format"]!["schema"]!.ToJsonString(), Is.EqualTo(expectedSchema));
                break;
            default:
                Assert.That(sent["response_format"]!["type"]!.GetValue<string>(), Is.EqualTo("json_object"));
                Assert.That(sent["response_format"]!["json_schema"]!.ToJsonString(), Is.EqualTo(expectedSchema));
                break;
        }
    }

    // Each a request the API refuses, and the parameter its error names first.
    private static readonly (string Body, string Param, string Message)[] Invalid =
    [
        ("", "$", "the request body is empty"),
        ("{", "$", "the body is not valid JSON"),
        ("[]", "$", "must be a JSON object"),
        ("""{"messages": [{"role": "user", "content": "Hi"}]}""", "model", "is required"),
        ("""{"model": "default"}""", "messages", "is required"),
        ("""{"model": 7, "messages": [{"role": "user", "content": "Hi"}]}""", "model", "must be a string"),
        ("""{"model": "no-such-alias", "messages": [{"role": "user", "content": "Hi"}]}""", "model", "no-such-alias"),
        ("""{"model": "default", "messages": []}""", "messages", "must hold 1 to"),
        ("""{"model": "default", "messages": "Hi"}""", "messages", "must be an array"),
        ("""{"model": "default", "messages": [{"role": "wizard", "content": "Hi"}]}""", "messages[0].role", "must be one of"),
        ("""{"model": "default", "messages": [{"content": "Hi"}]}""", "messages[0].role", "is required"),
        ("""{"model": "default", "messages": [{"role": "user"}]}""", "messages[0].content", "is required"),
        ("""{"model": "default", "messages": [{"role": "user", "content": 5}]}""", "messages[0].content", "must be a string or an array"),
        ("""{"model": "default", "messages": [{"role": "system", "content": "Be brief."}]}""", "messages", "must hold a user or assistant message"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi", "name": "ann"}]}""", "messages[0].name", "participant names"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi", "mood": "happy"}]}""", "messages[0].mood", "is not a field of a message"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "temperature": 3}""", "temperature", "must be a number from 0 to 2"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "top_p": 1.5}""", "top_p", "must be a number from 0 to 1"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 0}""", "max_tokens", "must be an integer from 1"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": "many"}""", "max_completion_tokens", "must be an integer"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 10, "max_completion_tokens": 20}""", "max_tokens", "give one of them"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "n": 2}""", "n", "must be 1"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "stream": "yes"}""", "stream", "must be true or false"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "stream_options": {"include_usage": true}}""", "stream_options", "only allowed when stream is true"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "stop": ["a", "b", "c", "d", "e"]}""", "stop", "array of 1 to 4"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "seed": 1.5}""", "seed", "must be an integer"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "xml"}}""", "response_format", "text, json_object or json_schema"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "json_schema", "json_schema": {"name": "s"}}}""", "response_format.json_schema.schema", "must be a JSON schema object"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "json_schema", "json_schema": {"name": "a b", "schema": {}}}}""", "response_format.json_schema.name", "letters, digits"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "logprobs": true}""", "logprobs", "log probabilities"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}""", "messages[1].content[0]", "only allowed in user messages"),
        ("""{"model": "default", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}]}]}""", "messages[0].content[0].image_url.url", "must be an http(s) URL or a data URL"),
        ("""{"model": "default", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}}]}]}""", "messages[0].content[0].image_url.url", "data:image/png|jpeg|gif|webp"),
        ("""{"model": "default", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "ultra"}}]}]}""", "messages[0].content[0].image_url.detail", "must be auto, low or high"),
        ("""{"model": "default", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}]}""", "messages[0].content[0]", "'input_audio' parts are not supported"),
        ("""{"model": "default", "messages": [{"role": "tool", "content": "42", "tool_call_id": "call_1"}]}""", "messages[0].tool_call_id", "answers no tool call"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, {"role": "tool", "content": "42"}]}""", "messages[2].tool_call_id", "is required"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, {"role": "user", "content": "Hi"}]}""", "messages[1].tool_calls", "call_1 has no tool message answering it"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]}]}""", "messages[1].tool_calls[0].function.arguments", "must be a JSON object as text"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": null}]}""", "messages[1].content", "is required unless tool_calls are given"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi", "tool_calls": [{"id": "c"}]}]}""", "messages[0].tool_calls", "only allowed on assistant messages"),
        ("""{"model": "default", "messages": [{"role": "function", "name": "f", "content": "42"}]}""", "messages[0].role", "'function' is not supported"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tools": {"type": "function", "function": {"name": "f"}}}""", "tools", "must be an array"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "custom", "custom": {"name": "grep"}}]}""", "tools[0].type", "'custom' tools are not supported"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "get weather"}}]}""", "tools[0].function.name", "must be 1 to 64 letters"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}]}""", "tools[1].function.name", "names another tool too"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": "any"}}]}""", "tools[0].function.parameters", "must be a JSON schema object"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tool_choice": "auto"}""", "tool_choice", "only allowed when tools are given"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}}""", "tool_choice", "not a function of tools"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "sometimes"}""", "tool_choice", "must be none, auto, required"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f"}}], "parallel_tool_calls": "no"}""", "parallel_tool_calls", "must be true or false"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "functions": [{"name": "f"}]}""", "functions", "deprecated in favour of tools"),
        ("""{"model": "command", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "f"}}}""", "tool_choice", "naming a function is not supported by cohere"),
        ("""{"model": "command", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f"}}], "parallel_tool_calls": false}""", "parallel_tool_calls", "false is not supported by cohere"),
        ("""{"model": "command", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f", "strict": true}}, {"type": "function", "function": {"name": "g"}}]}""", "tools", "cohere takes strict for every tool or for none"),
        ("""{"model": "smart", "messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}]}]}""", "messages[0].content[1].image_url.detail", "'low' is not supported by anthropic"),
        ("""{"model": "smart", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.5}""", "temperature", "is not accepted by model 'smart'"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "audio": {"voice": "alloy", "format": "mp3"}}""", "audio", "audio output"),
        ("""{"model": "default", "messages": [{"role": "user", "content": "Hi"}], "frobnicate": true}""", "frobnicate", "is not a parameter of the chat completions API"),
        ("""{"model": "default", "model": "fast", "messages": [{"role": "user", "content": "Hi"}]}""", "model", "appears more than once"),
        ("""{"model": "smart", "messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "json_object"}}""", "response_format", "json_object is not supported by anthropic"),
        ("""{"model": "command", "messages": [{"role": "user", "content": "Hi"}], "stop": ["a", "b", "c", "d"], "temperature": 1.5}""", "temperature", "must be at most 1"),
    ];

    public static IEnumerable<TestCaseData> InvalidRequests => Invalid.Select(c => new TestCaseData(c.Body, c.Param, c.Message).SetName($"Invalid_{c.Param}_{c.Message[..Math.Min(24, c.Message.Length)]}"));

    [TestCaseSource(nameof(InvalidRequests))]
    public async Task InvalidRequest_Is400_InOpenAisErrorShape_NamingTheParameter(string body, string param, string message)
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/chat/completions", Gateway.ClientKeys["team-a"], body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        var requestId = response.Headers.GetValues("x-request-id").Single();
        Assert.Multiple(() =>
        {
            Assert.That(error.GetProperty("type").GetString(), Is.EqualTo("invalid_request_error"));
            Assert.That(error.GetProperty("code").GetString(), Is.AnyOf("validation_failed", "bad_request"));
            Assert.That(error.GetProperty("param").GetString(), Is.EqualTo(param));
            Assert.That(error.GetProperty("message").GetString(), Does.Contain(message).And.EndWith($"(request id {requestId})"));
        });
        foreach (var vendor in VendorCase.All)
        {
            Assert.That(Vendors[vendor.Vendor].LogEntries, Is.Empty, "no vendor was called");
        }
    }
}
