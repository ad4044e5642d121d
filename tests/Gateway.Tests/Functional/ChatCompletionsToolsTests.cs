using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using OpenAI.Chat;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// Tool calling and images on the OpenAI-compatible chat completions API, per vendor. Golden files: one OpenAI request
/// with every translated part (developer turn, text and image parts, an assistant turn's text and two tool calls, tool
/// results — one as text parts —, strict function tools, tool_choice, temperature, max_completion_tokens, stop) and the
/// body each vendor must get for it (Fixtures/{vendor}/compat-tools-request.json, compared whole); each vendor's
/// tool-call answer and stream (the arguments split across events) and the OpenAI answer and chunks the gateway must
/// make of them (*.expected.*). Then the OpenAI .NET SDK's own tool round trip and streamed tool calls against each vendor.
/// </summary>
public sealed class ChatCompletionsToolsTests : GatewayFixture
{
    public static IEnumerable<ChatCompletionsApiTests.Case> Cases => ChatCompletionsApiTests.Cases;

    [SetUp]
    public void ResetVendors() => Vendors.Reset();

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(RepoPaths.Fixtures, name));

    private void VendorAnswers(ChatCompletionsApiTests.Case vendor, string fixture, bool stream, Func<string, bool>? when = null, int priority = 10)
        => Vendors[vendor.Vendor.Vendor].Given(Request.Create().WithPath(vendor.Vendor.VendorPath).WithBody(b => b != null && (when?.Invoke(b) ?? true)).UsingPost())
            .AtPriority(priority)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", stream ? "text/event-stream" : "application/json").WithBody(Fixture(fixture)));

    private IReadOnlyList<JsonObject> VendorBodies(ChatCompletionsApiTests.Case vendor)
        => [.. Vendors[vendor.Vendor.Vendor].LogEntries.Select(e => JsonNode.Parse(e.RequestMessage!.Body!)!.AsObject())];

    // The gateway's id and creation time replaced by the golden files' placeholders, once checked.
    private static JsonNode Normalized(JsonNode answer, string requestId)
    {
        Assert.That(answer["id"]!.GetValue<string>(), Is.EqualTo("chatcmpl-" + requestId));
        Assert.That(answer["created"]!.GetValue<long>(), Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(120));
        answer["id"] = "chatcmpl-REQUEST_ID";
        answer["created"] = 0;
        return answer;
    }

    private static void AssertSameJson(JsonNode? actual, JsonNode? expected, string what)
        => Assert.That(JsonNode.DeepEquals(actual, expected), Is.True, $"{what}\nexpected: {expected?.ToJsonString()}\nactual:   {actual?.ToJsonString()}");

    [TestCaseSource(nameof(Cases))]
    public async Task Golden_RequestTranslatedFieldByField_AndToolCallAnswerTranslatedBack(ChatCompletionsApiTests.Case vendor)
    {
        var name = vendor.Vendor.Vendor;
        VendorAnswers(vendor, $"{name}/compat-tools-response.json", stream: false);
        // provider/model: the model as it is, without an alias's configured fields or sampling restrictions.
        var request = Fixture("compat/tools-request.json").Replace("\"MODEL\"", $"\"{name}/{vendor.ModelId}\"", StringComparison.Ordinal);
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/chat/completions", Gateway.ClientKeys["team-a"], request));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);

        var sent = VendorBodies(vendor).Single();
        var expected = JsonNode.Parse(Fixture($"{name}/compat-tools-request.json"))!.AsObject();
        // Field by field first, so a failure names the field; then the whole body, so nothing more was sent.
        foreach (var (field, value) in expected)
        {
            AssertSameJson(sent[field], value, $"{name} request field '{field}'");
        }

        Assert.That(sent.Select(p => p.Key), Is.EquivalentTo(expected.Select(p => p.Key)), "no field the golden body lacks");

        var requestId = response.Headers.GetValues("x-request-id").Single();
        AssertSameJson(Normalized(JsonNode.Parse(text)!, requestId), JsonNode.Parse(Fixture($"{name}/compat-tools-response.expected.json")), $"{name} answer");
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Golden_ToolCallStream_SplitArguments_BecomeOpenAisToolCallDeltas_ThenTheUsageChunk(ChatCompletionsApiTests.Case vendor)
    {
        var name = vendor.Vendor.Vendor;
        VendorAnswers(vendor, $"{name}/compat-tools-stream.sse", stream: true);
        const string body = """
            {"model": "MODEL", "stream": true, "stream_options": {"include_usage": true},
             "messages": [{"role": "user", "content": "Is invoice INV-2304 paid, what is the weather in Lyon, and what time is it?"}],
             "tools": [{"type": "function", "function": {"name": "get_invoice_status", "parameters": {"type": "object", "properties": {"invoice_id": {"type": "string"}}}}},
                       {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                       {"type": "function", "function": {"name": "get_time"}}]}
            """;
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/chat/completions", Gateway.ClientKeys["team-a"],
            body.Replace("\"MODEL\"", $"\"{vendor.Alias}\"", StringComparison.Ordinal)));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var requestId = response.Headers.GetValues("x-request-id").Single();
        var lines = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        var expected = Fixture($"{name}/compat-tools-stream.expected.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.That(lines, Has.Count.EqualTo(expected.Length), string.Join("\n", lines));
        Assert.That(lines[^1], Is.EqualTo("[DONE]"));
        for (var i = 0; i < lines.Count - 1; i++)
        {
            AssertSameJson(Normalized(JsonNode.Parse(lines[i])!, requestId), JsonNode.Parse(expected[i]), $"{name} chunk {i}");
        }

        Assert.That(VendorBodies(vendor).Single()["tools"]!.AsArray(), Has.Count.EqualTo(3));
    }

    private ChatClient Sdk(string model) => ChatCompletionsApiTests.Sdk(Gateway, model);

    private static readonly ChatTool[] SdkTools =
    [
        ChatTool.CreateFunctionTool("get_invoice_status", "Look up an invoice's status.",
            BinaryData.FromString("""{"type":"object","properties":{"invoice_id":{"type":"string"}},"required":["invoice_id"]}""")),
        ChatTool.CreateFunctionTool("get_weather", "Current weather for a city.",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""")),
        ChatTool.CreateFunctionTool("get_time", "The time now."),
    ];

    // How each vendor's request carries the tool results of the second turn.
    private static bool CarriesToolResults(string vendor, string body) => vendor switch
    {
        "anthropic" => body.Contains("\"tool_result\"", StringComparison.Ordinal),
        _ => body.Contains("\"role\":\"tool\"", StringComparison.Ordinal),
    };

    [TestCaseSource(nameof(Cases))]
    public async Task OpenAiSdk_ToolCallRoundTrip_ReachesEachVendor(ChatCompletionsApiTests.Case vendor)
    {
        var name = vendor.Vendor.Vendor;
        VendorAnswers(vendor, $"{name}/compat-tools-response.json", stream: false, when: b => !CarriesToolResults(name, b));
        VendorAnswers(vendor, vendor.Vendor.ResponseFixture, stream: false, when: b => CarriesToolResults(name, b), priority: 5);
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        foreach (var tool in SdkTools)
        {
            options.Tools.Add(tool);
        }

        List<ChatMessage> conversation = [new UserChatMessage("Is the next invoice paid, and what is the weather in Lyon?")];
        ChatCompletion first = await Sdk(vendor.Alias).CompleteChatAsync(conversation, options);
        Assert.Multiple(() =>
        {
            Assert.That(first.FinishReason, Is.EqualTo(ChatFinishReason.ToolCalls));
            Assert.That(first.ToolCalls.Select(c => c.FunctionName), Is.EqualTo(new[] { "get_invoice_status", "get_weather" }));
            Assert.That(first.ToolCalls.Select(c => JsonNode.Parse(c.FunctionArguments.ToString())!.ToJsonString()),
                Is.EqualTo(new[] { """{"invoice_id":"INV-2304"}""", """{"city":"Lyon"}""" }));
            Assert.That(first.ToolCalls.Select(c => c.Id), Is.Unique.And.None.Empty);
        });

        conversation.Add(new AssistantChatMessage(first));
        conversation.Add(new ToolChatMessage(first.ToolCalls[0].Id, """{"status":"paid"}"""));
        conversation.Add(new ToolChatMessage(first.ToolCalls[1].Id, "18°C, cloudy"));
        ChatCompletion second = await Sdk(vendor.Alias).CompleteChatAsync(conversation, new ChatCompletionOptions { Tools = { SdkTools[0], SdkTools[1] } });
        Assert.That(second.Content.Single().Text, Is.EqualTo("Customer requests invoice review and Q3 delivery confirmation."));
        Assert.That(second.FinishReason, Is.EqualTo(ChatFinishReason.Stop));

        // The second turn reached the vendor with the calls and their results in its own shape, ids kept.
        var sent = VendorBodies(vendor)[1];
        var ids = first.ToolCalls.Select(c => c.Id).ToList();
        var messages = sent["messages"]!.AsArray();
        switch (name)
        {
            case "anthropic":
                var uses = messages[1]!["content"]!.AsArray().Where(b => b!["type"]!.GetValue<string>() == "tool_use").ToList();
                Assert.That(uses.Select(u => u!["id"]!.GetValue<string>()), Is.EqualTo(ids));
                Assert.That(uses[1]!["input"]!.ToJsonString(), Is.EqualTo("""{"city":"Lyon"}"""));
                var results = messages[2]!["content"]!.AsArray();
                Assert.That(results.Select(r => (r!["tool_use_id"]!.GetValue<string>(), r["content"]!.GetValue<string>())),
                    Is.EqualTo(new[] { (ids[0], """{"status":"paid"}"""), (ids[1], "18°C, cloudy") }));
                break;
            default:
                var assistant = messages.Single(m => m!["role"]!.GetValue<string>() == "assistant")!;
                Assert.That(assistant["tool_calls"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()), Is.EqualTo(ids));
                var tools = messages.Where(m => m!["role"]!.GetValue<string>() == "tool").ToList();
                Assert.That(tools.Select(t => (t!["tool_call_id"]!.GetValue<string>(), t["content"]!.GetValue<string>())),
                    Is.EqualTo(new[] { (ids[0], """{"status":"paid"}"""), (ids[1], "18°C, cloudy") }));
                break;
        }
    }

    [TestCaseSource(nameof(Cases))]
    public async Task OpenAiSdk_StreamedToolCalls_AssembleToTheVendorsCalls(ChatCompletionsApiTests.Case vendor)
    {
        var name = vendor.Vendor.Vendor;
        VendorAnswers(vendor, $"{name}/compat-tools-stream.sse", stream: true);
        var options = new ChatCompletionOptions();
        foreach (var tool in SdkTools)
        {
            options.Tools.Add(tool);
        }

        var calls = new SortedDictionary<int, (string? Id, string? Name, System.Text.StringBuilder Arguments)>();
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Sdk(vendor.Alias).CompleteChatStreamingAsync([new UserChatMessage("Is the next invoice paid, and what is the weather in Lyon?")], options))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            foreach (var piece in update.ToolCallUpdates)
            {
                var call = calls.TryGetValue(piece.Index, out var known) ? known : (null, null, new System.Text.StringBuilder());
                call.Id ??= piece.ToolCallId;
                call.Name ??= piece.FunctionName;
                call.Arguments.Append(piece.FunctionArgumentsUpdate?.ToString());
                calls[piece.Index] = call;
            }

            finish ??= update.FinishReason;
        }

        var expected = JsonNode.Parse(Fixture($"{name}/compat-tools-response.expected.json"))!["choices"]![0]!["message"]!["tool_calls"]!.AsArray()
            .Select(c => (c!["function"]!["name"]!.GetValue<string>(), JsonNode.Parse(c["function"]!["arguments"]!.GetValue<string>())!.ToJsonString())).ToList();
        if (name == "anthropic")
        {
            expected.Add(("get_time", "{}"));
        }

        Assert.Multiple(() =>
        {
            Assert.That(finish, Is.EqualTo(ChatFinishReason.ToolCalls));
            Assert.That(calls.Keys, Is.EqualTo(Enumerable.Range(0, expected.Count)));
            Assert.That(calls.Values.Select(c => (c.Name, JsonNode.Parse(c.Arguments.ToString())!.ToJsonString())), Is.EqualTo(expected));
            Assert.That(calls.Values.Select(c => c.Id), Is.Unique.And.None.Null);
            Assert.That(text.ToString(), Is.EqualTo(name switch { "anthropic" => "I'll check both.", "cohere" => "I will check both.", _ => "" }));
        });
    }
}
