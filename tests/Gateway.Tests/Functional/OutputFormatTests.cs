using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>format = text (Markdown removed), markdown (as written) or json (parsed, or invalid_model_output).</summary>
public sealed class OutputFormatTests : GatewayFixture
{
    private const string Markdown = "# Summary\n\n**Invoice** review and *Q3* delivery `dates`.\n- confirm times\n> quoted";
    private const string PlainText = "Summary\n\nInvoice review and Q3 delivery dates.\nconfirm times\nquoted";

    [SetUp]
    public void ResetVendors() => Vendors.Reset();

    /// <summary>The OpenAI fixture with another content and finish reason, plain and as a stream split into small pieces.</summary>
    private void OpenAiAnswers(string content, string finishReason = "stop")
    {
        var completion = JsonNode.Parse(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture))!;
        completion["choices"]![0]!["message"]!["content"] = content;
        completion["choices"]![0]!["finish_reason"] = finishReason;
        Vendors.OpenAi.Given(Request.Create().WithBody(b => b != null && !b.Contains("\"stream\":true")).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(completion.ToJsonString()));

        var events = new List<string>();
        for (var i = 0; i < content.Length; i += 3)
        {
            var chunk = new JsonObject
            {
                ["id"] = "chatcmpl-f", ["object"] = "chat.completion.chunk", ["model"] = "gpt-6-luna-2026-09-22",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = content.Substring(i, Math.Min(3, content.Length - i)) }, ["finish_reason"] = null }),
            };
            events.Add("data: " + chunk.ToJsonString() + "\n\n");
        }

        events.Add("data: {\"id\":\"chatcmpl-f\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"" + finishReason + "\"}]}\n\n");
        events.Add("data: {\"id\":\"chatcmpl-f\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":30,\"total_tokens\":50}}\n\n");
        events.Add("data: [DONE]\n\n");
        Vendors.OpenAi.Given(Request.Create().WithBody(b => b != null && b.Contains("\"stream\":true")).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(string.Concat(events)));
    }

    private async Task<(HttpResponseMessage Response, JsonElement Body)> GenerateAsync(string? format, string model = "openai/gpt-6-luna")
    {
        var request = new JsonObject { ["prompt"] = "List the invoice facts.", ["model"] = model };
        if (format is not null)
        {
            request["format"] = format;
        }

        var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"], request.ToJsonString()));
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonDocument.Parse(text).RootElement);
    }

    private async Task<List<(string Name, JsonElement Data)>> GenerateStreamAsync(string format)
    {
        var request = new JsonObject { ["prompt"] = "List the invoice facts.", ["model"] = "openai/gpt-6-luna", ["format"] = format, ["stream"] = true };
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"], request.ToJsonString()));
        return await new InternalEvents(await response.Content.ReadAsStreamAsync()).ReadToEndAsync();
    }

    [TestCase(null)]
    [TestCase("text")]
    public async Task Text_RemovesMarkdown_PlainAndStreamedAlike(string? format)
    {
        OpenAiAnswers(Markdown);
        var (response, body) = await GenerateAsync(format);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body.GetProperty("output").GetString(), Is.EqualTo(PlainText));
        Assert.That(body.GetProperty("format").GetString(), Is.EqualTo("text"));

        var events = await GenerateStreamAsync("text");
        Assert.That(string.Concat(events.Where(e => e.Name == "delta").Select(e => e.Data.GetProperty("text").GetString())), Is.EqualTo(PlainText));
        Assert.That(events.Last().Name, Is.EqualTo("done"));
    }

    [Test]
    public async Task Markdown_IsReturnedAsWritten()
    {
        OpenAiAnswers(Markdown);
        var (_, body) = await GenerateAsync("markdown");
        Assert.That(body.GetProperty("output").GetString(), Is.EqualTo(Markdown));
        var sent = JsonDocument.Parse(Vendors.OpenAi.LogEntries.Single().RequestMessage!.Body!).RootElement;
        Assert.That(sent.GetProperty("messages")[0].GetProperty("content").GetString(), Does.Contain("Markdown"));
    }

    [TestCase("{\"facts\": [\"invoice\", \"Q3\"], \"count\": 2}")]
    [TestCase("```json\n{\"facts\": [\"invoice\", \"Q3\"], \"count\": 2}\n```")]
    [TestCase("  \n{\"facts\": [\"invoice\", \"Q3\"], \"count\": 2}\n")]
    public async Task Json_ReturnsAParsedValue_AndAsksForJsonMode(string content)
    {
        OpenAiAnswers(content);
        var (response, body) = await GenerateAsync("json");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        var output = body.GetProperty("output");
        Assert.That(output.ValueKind, Is.EqualTo(JsonValueKind.Object));
        Assert.That(output.GetProperty("count").GetInt32(), Is.EqualTo(2));
        Assert.That(output.GetProperty("facts")[1].GetString(), Is.EqualTo("Q3"));
        var sent = JsonDocument.Parse(Vendors.OpenAi.LogEntries.Single().RequestMessage!.Body!).RootElement;
        Assert.That(sent.GetProperty("response_format").GetProperty("type").GetString(), Is.EqualTo("json_object"));
        Assert.That(sent.GetProperty("messages")[0].GetProperty("content").GetString(), Does.Contain("JSON"));
    }

    [TestCase("Sure! Here are the facts: invoice, Q3.", "stop", "not valid JSON")]
    [TestCase("{\"facts\": [\"invoice\", ", "length", "max_tokens")]
    [TestCase("```json\n{\"facts\": 1", "stop", "not valid JSON")]
    public async Task Json_OutputThatDoesNotParse_IsInvalidModelOutput(string content, string finishReason, string detail)
    {
        OpenAiAnswers(content, finishReason);
        var request = new JsonObject { ["prompt"] = "List the invoice facts.", ["model"] = "openai/gpt-6-luna", ["format"] = "json" };
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"], request.ToJsonString()));
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadGateway, "invalid_model_output", "POST /v1/ai/generate");
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain(detail));

        var events = await GenerateStreamAsync("json");
        Assert.That(events.Last().Name, Is.EqualTo("error"));
        Assert.That(events.Last().Data.GetProperty("code").GetString(), Is.EqualTo("invalid_model_output"));
    }

    [Test]
    public async Task Json_Streamed_EndsWithDone_WhenTheWholeOutputParses()
    {
        OpenAiAnswers("{\"facts\": [\"invoice\", \"Q3\"]}");
        var events = await GenerateStreamAsync("json");
        Assert.That(events.Last().Name, Is.EqualTo("done"));
        var text = string.Concat(events.Where(e => e.Name == "delta").Select(e => e.Data.GetProperty("text").GetString()));
        Assert.That(JsonDocument.Parse(text).RootElement.GetProperty("facts").GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public async Task Json_Anthropic_AsksInTheSystemPrompt()
    {
        var message = JsonNode.Parse(VendorCase.Anthropic.ReadFixture(VendorCase.Anthropic.ResponseFixture))!;
        message["content"]![0]!["text"] = "[1, 2, 3]";
        Vendors.Anthropic.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(message.ToJsonString()));

        var (_, body) = await GenerateAsync("json", "anthropic/claude-sonnet-5-5");

        Assert.That(body.GetProperty("output").ValueKind, Is.EqualTo(JsonValueKind.Array));
        var sent = JsonDocument.Parse(Vendors.Anthropic.LogEntries.Single().RequestMessage!.Body!).RootElement;
        Assert.That(sent.GetProperty("system").GetString(), Does.Contain("JSON"));
        Assert.That(sent.TryGetProperty("response_format", out _), Is.False, "Anthropic has no JSON mode field");
    }
}
