using System.Collections.Frozen;
using System.Text.Json;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Tasks;
using Gateway.Transforms.Vendors.Anthropic;
using Gateway.Transforms.Vendors.OpenAi;

namespace Gateway.Tests.Tasks;

/// <summary>The planner alone: an internal request and a target in, the vendor's body and the call's record out.</summary>
public sealed class TaskPlannerTests
{
    private static readonly TaskPrompts Prompts = new(
        "Summarize this.",
        new Dictionary<string, string> { ["text"] = "Plain text.", ["markdown"] = "Markdown.", ["json"] = "JSON only." }.ToFrozenDictionary(),
        DefaultMaxTokens: 700);

    private static readonly TaskTarget OpenAi = new(new ProviderBinding("openai", new OpenAiVendor()), "gpt-6-luna", true,
        [new("reasoning_effort", "\"none\"")], new ModelPrice(0.1m, 0.5m));

    private static readonly TaskTarget Anthropic = new(new ProviderBinding("anthropic", new AnthropicVendor()), "claude-haiku-5-5", false, [], null);

    private static JsonElement Body(TaskCall call) => JsonDocument.Parse(call.VendorBody).RootElement;

    [Test]
    public void AnImage_CountsAsTheTokensAVendorChargesForOne_NotAsItsBase64Length()
    {
        // 400 KB of base64 would be 100,000 tokens at 4 characters a token.
        var image = new ImageInput("data:image/png;base64," + Convert.ToBase64String(new byte[300_000]), null);
        var request = new TaskRequest
        {
            Messages = [new ChatMessage(ChatMessage.User, "What does this invoice say?") { Parts = [new ContentPart("What does this invoice say?", null), new ContentPart(null, image)] }],
            Format = OutputFormats.Verbatim,
        };

        var call = TaskPlanner.Plan(TaskKind.Chat, request, OpenAi, Prompts);
        var textOnly = TaskPlanner.Plan(TaskKind.Chat, request with { Messages = [new ChatMessage(ChatMessage.User, "What does this invoice say?")] }, OpenAi, Prompts);

        Assert.That(call.VendorBody.Length, Is.GreaterThan(400_000), "the image is sent whole");
        var text = textOnly.Record.EstimatedInputTokens!.Value;
        Assert.That(call.Record.EstimatedInputTokens, Is.InRange(text + TaskPlanner.TokensPerImage, text + TaskPlanner.TokensPerImage + 30));
    }

    [Test]
    public void Summarize_PutsTheInstructionBeforeTheContext_AndMergesEverySystemTextWithTheFormatsInstruction()
    {
        var request = new TaskRequest
        {
            Context = "Invoice 42 is late.",
            System = "Be brief.",
            Format = OutputFormats.Json,
            Temperature = 0.3,
        };

        var call = TaskPlanner.Plan(TaskKind.Summarize, request, OpenAi, Prompts);
        var body = Body(call);
        var messages = body.GetProperty("messages");

        Assert.Multiple(() =>
        {
            Assert.That(messages[0].GetProperty("role").GetString(), Is.EqualTo("system"));
            Assert.That(messages[0].GetProperty("content").GetString(), Is.EqualTo("Be brief.\n\nJSON only."));
            Assert.That(messages[1].GetProperty("content").GetString(), Is.EqualTo("Summarize this.\n\nInvoice 42 is late."));
            Assert.That(body.GetProperty("max_completion_tokens").GetInt32(), Is.EqualTo(700), "the configured default");
            Assert.That(body.GetProperty("temperature").GetDouble(), Is.EqualTo(0.3));
            Assert.That(body.GetProperty("reasoning_effort").GetString(), Is.EqualTo("none"), "the target's configured field");
            Assert.That(body.GetProperty("response_format").GetProperty("type").GetString(), Is.EqualTo("json_object"));
            Assert.That(call.Format, Is.EqualTo(OutputFormats.Json));
        });
    }

    [Test]
    public void Generate_SystemTurnsJoinTheSystemInstruction_OtherTurnsKeepTheirOrder_PromptAndContextEndTheConversation()
    {
        var request = new TaskRequest
        {
            Prompt = "And now?",
            Context = "Q3 numbers.",
            Messages = [new("system", "You are terse."), new("user", "Hi"), new("assistant", "Hello")],
            MaxTokens = 50,
        };

        var body = Body(TaskPlanner.Plan(TaskKind.Generate, request, OpenAi, Prompts));
        var turns = body.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("role").GetString(), m.GetProperty("content").GetString())).ToList();

        Assert.That(turns, Is.EqualTo(new[]
        {
            ("system", "You are terse.\n\nPlain text."),
            ("user", "Hi"),
            ("assistant", "Hello"),
            ("user", "And now?\n\nQ3 numbers."),
        }));
        Assert.That(body.GetProperty("max_completion_tokens").GetInt32(), Is.EqualTo(50));
    }

    [Test]
    public void Record_DescribesTheCallForLimitingAndTelemetry()
    {
        var call = TaskPlanner.Plan(TaskKind.Generate, new TaskRequest { Prompt = "Hi", Stream = true, User = "u-7", MaxTokens = 99 }, OpenAi, Prompts);

        Assert.Multiple(() =>
        {
            Assert.That(call.Record.Provider, Is.EqualTo("openai"));
            Assert.That(call.Record.Operation, Is.EqualTo(GenAiOperations.Chat));
            Assert.That(call.Record.Model, Is.EqualTo("gpt-6-luna"));
            Assert.That(call.Record.LimitModel, Is.EqualTo("gpt-6-luna"));
            Assert.That(call.Record.EstimatedInputTokens, Is.EqualTo(call.VendorBody.Length / CallRecord.CharsPerToken));
            Assert.That(call.Record.MaxOutputTokens, Is.EqualTo(99));
            Assert.That(call.Record.Stream, Is.True);
            Assert.That(call.Record.User, Is.EqualTo("u-7"));
            Assert.That(call.Record.Price, Is.EqualTo(new ModelPrice(0.1m, 0.5m)));
            Assert.That(Body(call).GetProperty("stream").GetBoolean(), Is.True);
        });
    }

    [Test]
    public void RetargetTo_PlansTheSameRequestForAnotherVendor_WithItsShapeAndARecordOfItsOwn()
    {
        var request = new TaskRequest { Prompt = "Hi", System = "Be brief.", Temperature = 0.4, MaxTokens = 80 };
        var first = TaskPlanner.Plan(TaskKind.Generate, request, OpenAi, Prompts);

        var second = first.RetargetTo(Anthropic);
        var body = Body(second);

        Assert.Multiple(() =>
        {
            Assert.That(second.Provider, Is.EqualTo("anthropic"));
            Assert.That(body.GetProperty("model").GetString(), Is.EqualTo("claude-haiku-5-5"));
            Assert.That(body.GetProperty("system").GetString(), Is.EqualTo("Be brief.\n\nPlain text."), "Anthropic's top-level system field");
            Assert.That(body.GetProperty("max_tokens").GetInt32(), Is.EqualTo(80));
            Assert.That(body.TryGetProperty("temperature", out _), Is.False, "this target takes no temperature");
            Assert.That(body.TryGetProperty("reasoning_effort", out _), Is.False, "the first target's fields stay with it");
            Assert.That(second.Record, Is.Not.SameAs(first.Record));
            Assert.That(second.Outcome, Is.Not.SameAs(first.Outcome));
            Assert.That(second.Record.Price, Is.Null);
            Assert.That(second.Record.EstimatedInputTokens, Is.EqualTo(second.VendorBody.Length / CallRecord.CharsPerToken));
            Assert.That(first.Provider, Is.EqualTo("openai"), "the first plan is unchanged");
            Assert.That(Body(first).GetProperty("model").GetString(), Is.EqualTo("gpt-6-luna"));
        });
    }
}
