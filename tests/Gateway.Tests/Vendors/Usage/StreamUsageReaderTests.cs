using System.Text;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Vendors;
using Gateway.Transforms.Vendors.Anthropic;
using Gateway.Transforms.Vendors.Cohere;
using Gateway.Transforms.Vendors.OpenAi;

namespace Gateway.Tests.Vendors.Usage;

/// <summary>
/// The usage tap reads every event of a passthrough stream for its usage, model and finish only (ReadUsage). OpenAI's
/// reader does that for chat completion chunks in one pass, Anthropic's and Cohere's for their text deltas, without a
/// document or a string per event: what it gives must be exactly what reading the whole event gives (or fail where, and
/// as, that fails), event by event — for Anthropic and Cohere, whose readers follow tool calls from event to event, also
/// after the same events before it and for the same events after it.
/// </summary>
public sealed class StreamUsageReaderTests
{
    private static readonly string[] OpenAiStreams =
    [
        "openai/chat-completion-stream.sse", "openai/compat-tools-stream.sse", "openai/response-stream.sse",
        "openai/golden/stream-error.sse", "openai/golden/stream-refusal.sse", "openai/golden/stream-truncated.sse",
    ];

    private const string Chunk = """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-6-luna-2026-09-22","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" confirmation"},"logprobs":null,"finish_reason":null}],"usage":null}""";

    // Chunks the fast reading must take as the whole reading does, whatever their shape.
    private static readonly string[] Events =
    [
        Chunk,
        """{"id":"c","model":"gpt-6-luna","choices":[],"usage":{"prompt_tokens":28,"completion_tokens":11,"total_tokens":39}}""",
        """{"id":"c","model":"gpt-6-luna","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}""",
        """{"choices":[{"finish_reason":"length"}]}""",
        """{"choices":[{"finish_reason":"content_filter"}]}""",
        """{"choices":[{"finish_reason":"function_call"}]}""",
        """{"choices":[{"finish_reason":"tool_calls"}]}""",
        """{"choices":[{"finish_reason":"something_new"}]}""",
        """{"choices":[{"finish_reason":"st\u006fp"}]}""",
        """{"choices":[{"finish_reason":7}]}""",
        """{"choices":[{"finish_reason":"length"},{"finish_reason":"stop"}]}""",
        """{"choices":[[1,2],{"finish_reason":"stop"}]}""",
        """{"choices":[5]}""",
        """{"choices":{"finish_reason":"stop"}}""",
        """{"choices":[{"finish_reason":"stop"}],"choices":[]}""",
        """{"choices":[{"finish_reason":"stop","finish_reason":"length"}]}""",
        """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":""}}]}}]}""",
        """{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_1"}]}}],"usage":{"prompt_tokens":3}}""",
        """{"choices":[{"delta":{"content":"a","nested":{"tool_calls":1}}}]}""",
        """{"model":"gpt-6-luna","model":"gpt-6-luna-2"}""",
        """{"model":"gpt-6-\u006cuna"}""",
        """{"model":42}""",
        """{"model":null,"usage":{"input_tokens":5,"output_tokens":6}}""",
        """{"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2,"completion_tokens":3}}""",
        """{"usage":{"prompt_tokens":99999999999,"completion_tokens":1}}""",
        """{"usage":{"prompt_tokens":1.5,"completion_tokens":"2"}}""",
        """{"usage":[1,2]}""",
        """{"error":{"message":"overloaded"}}""",
        """{"type":"response.completed","response":{"model":"gpt-6-luna","usage":{"input_tokens":1,"output_tokens":2}}}""",
        """{"type":"chat.completion.chunk","model":"gpt-6-luna"}""",
        """[1,2,3]""",
        "\"text\"",
        "5",
        "{}",
        """{"model":"gpt-6-luna"} trailing""",
        """{"model":"gpt-6-luna",}""",
        """{"model":"gpt-6-luna" """,
        """{"choices":[{"finish_reason":"stop"}""",
        """{"usage":{"prompt_tokens":1,}}""",
        "not json",
        "",
        "[DONE]",
    ];

    private static readonly IVendorStreamReader Reader = new OpenAiVendor().CreateStreamReader();

    [TestCaseSource(nameof(Events))]
    public void AChunk_ReadForUsage_GivesWhatAWholeReadingGives(string data)
    {
        foreach (var known in new[] { null, "gpt-6-luna", "gpt-6-luna-2026-09-22" })
        {
            Assert.That(Outcome(() => Reader.ReadUsage(null, Encoding.UTF8.GetBytes(data), known)),
                Is.EqualTo(Outcome(() => StreamUpdate.UsageOf(Reader.Read(null, Encoding.UTF8.GetBytes(data))))), $"model so far: {known ?? "none"}");
        }
    }

    [TestCaseSource(nameof(OpenAiStreams))]
    public void EveryEventOfADocumentedStream_ReadForUsage_GivesWhatAWholeReadingGives(string fixture)
    {
        var events = new List<(string? Name, byte[] Data)>();
        new SseEventParser().Feed(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, fixture)), (name, data) => events.Add((name, data.ToArray())));
        Assert.That(events, Is.Not.Empty);

        string? model = null;
        foreach (var (name, data) in events)
        {
            var fast = Outcome(() => Reader.ReadUsage(name, data, model));
            Assert.That(fast, Is.EqualTo(Outcome(() => StreamUpdate.UsageOf(Reader.Read(name, data)))), Encoding.UTF8.GetString(data));
            model = fast.Update.Model ?? model;
        }
    }

    [Test]
    public void AChunkNamingTheModelAgain_GivesBackTheSameString_AndAllocatesNothing()
    {
        var chunk = Encoding.UTF8.GetBytes(Chunk);
        var usage = Encoding.UTF8.GetBytes(Events[1]);
        var model = Reader.ReadUsage(null, chunk, null).Model!;
        Assert.That(model, Is.EqualTo("gpt-6-luna-2026-09-22"));
        Assert.That(Reader.ReadUsage(null, chunk, model).Model, Is.SameAs(model));

        // Allocation on this thread is exact (not timing): every chunk of a stream is read, so none may cost the heap.
        Reader.ReadUsage(null, usage, "gpt-6-luna");
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Reader.ReadUsage(null, chunk, model);
            Reader.ReadUsage(null, usage, "gpt-6-luna");
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static readonly string[] NamedStreams =
    [
        "anthropic/message-stream.sse", "anthropic/compat-tools-stream.sse", "anthropic/golden/stream-error.sse",
        "anthropic/golden/stream-truncated.sse", "cohere/chat-stream.sse", "cohere/compat-tools-stream.sse",
        "cohere/golden/stream-truncated.sse",
    ];

    private const string TextDelta = """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, \"Ada\"\n"}}""";
    private const string ContentDelta = """{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":" invoice review and Q3 delivery confirmation."}}}}""";
    private const string ToolUseStart = """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}""";
    private const string ToolCallStart = """{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"call_1","type":"function","function":{"name":"f","arguments":""}}}}}""";

    // Anthropic events (name, data), each read by fresh readers and by readers that have seen a tool_use block open at index 1.
    private static readonly object?[][] AnthropicEvents =
    [
        .. new[]
        {
            TextDelta,
            """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"input\u005fjson_delta","partial_json":"1"}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta"},"delta":{"type":"text_delta","text":"a"}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"a"},"delta":{"type":"input_json_delta","partial_json":"1"}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","type":"text_delta","partial_json":"1"}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","type":"input_json_delta","partial_json":"1"}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":7,"partial_json":"1"}}""",
            """{"type":"content_block_delta","index":1,"delta":"input_json_delta"}""",
            """{"type":"content_block_delta","index":1,"delta":["input_json_delta"]}""",
            """{"type":"content_block_delta","index":1}""",
            """{"type":"content_block_delta","index":1,"other":{"delta":{"type":"input_json_delta","partial_json":"1"}}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}} trailing""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\x"}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}""",
            """[{"delta":{"type":"input_json_delta"}}]""",
            "\"text\"",
            "5",
            "{}",
            "not json",
            "",
        }.SelectMany(data => new object?[][] { ["content_block_delta", data, false], ["content_block_delta", data, true] }),
        ["message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":12}}""", false],
        ["message_start", """{"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-5-5","usage":{"input_tokens":25,"output_tokens":1}}}""", false],
        ["content_block_stop", """{"type":"content_block_stop","index":1}""", true],
        ["error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", false],
        [null, TextDelta, false],
        ["ping", """{"type": "ping"}""", false],
    ];

    // Cohere events (name, data), each read by fresh readers and by readers that have seen a tool call start at index 0.
    private static readonly object?[][] CohereEvents =
    [
        .. new (string? Name, string Data)[]
        {
            ("content-delta", ContentDelta),
            ("tool-plan-delta", """{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will call f."}}}"""),
            ("content-start", """{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}"""),
            ("content-end", """{"type":"content-end","index":0}"""),
            ("message-start", """{"id":"29f1","type":"message-start","delta":{"message":{"role":"assistant"}}}"""),
            ("citation-start", """{"type":"citation-start","index":0,"delta":{"message":{"citations":{"start":0,"end":5,"text":"Hello"}}}}"""),
            ("content-delta", """{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":1,"output_tokens":2}}}}"""),
            ("content-delta", """{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{"}}}}}"""),
            ("content-delta", """{"type":"content-delta","delta":{"message":{"content":{"text":"a"}}}} trailing"""),
            ("content-delta", """{"type":"content-delta","delta":{"message":{"content":{"text":"a"}}},}"""),
            ("content-delta", """{"type":"content-delta","delta":{"message":{"content":{"text":"a\x"}}}}"""),
            ("content-delta", """{"type":"content-delta","delta":{"message":{"content":{"text":"a"}}}"""),
            ("content-delta", "[1,2]"),
            ("content-delta", "5"),
            ("content-delta", "not json"),
            ("content-delta", ""),
            (null, ContentDelta),
            (null, """{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{"}}}}}"""),
            ("message-end", """{"type":"message-end","delta":{"finish_reason":"MAX_TOKENS","usage":{"billed_units":{"input_tokens":1,"output_tokens":2}}}}"""),
            ("message-end", """{"type":"message-end","delta":{"finish_reason":"ERROR","error":{"message":"boom"}}}"""),
            ("tool-call-delta", """{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{"}}}}}"""),
            ("tool-call-delta", """{"type":"tool-call-delta","index":3,"delta":{"message":{"tool_calls":{"function":{"arguments":"{"}}}}}"""),
            ("tool-call-start", ToolCallStart),
        }.SelectMany(e => new object?[][] { [e.Name, e.Data, false], [e.Name, e.Data, true] }),
    ];

    [TestCaseSource(nameof(AnthropicEvents))]
    public void AnAnthropicEvent_ReadForUsage_GivesWhatAWholeReadingGives(string? name, string data, bool toolUseOpen)
        => AssertSameAsWholeReading(new AnthropicVendor(), toolUseOpen ? [("content_block_start", ToolUseStart)] : [], name, Encoding.UTF8.GetBytes(data));

    [TestCaseSource(nameof(CohereEvents))]
    public void ACohereEvent_ReadForUsage_GivesWhatAWholeReadingGives(string? name, string data, bool toolCallStarted)
        => AssertSameAsWholeReading(new CohereVendor(), toolCallStarted ? [("tool-call-start", ToolCallStart)] : [], name, Encoding.UTF8.GetBytes(data));

    [Test]
    public void ATextDeltaThatIsNotUtf8_ReadForUsage_GivesWhatAWholeReadingGives()
    {
        // 0xFF is never UTF-8: the whole reading refuses such an event as malformed, so the fast one must too, though it
        // makes no string of the text.
        byte[] Broken(string data) => [.. Encoding.UTF8.GetBytes(data[..data.IndexOf('#')]), 0xFF, .. Encoding.UTF8.GetBytes(data[(data.IndexOf('#') + 1)..])];
        AssertSameAsWholeReading(new AnthropicVendor(), [], "content_block_delta", Broken(TextDelta.Replace("Hello", "#", StringComparison.Ordinal)));
        AssertSameAsWholeReading(new CohereVendor(), [], "content-delta", Broken(ContentDelta.Replace(" invoice", "#", StringComparison.Ordinal)));
        AssertSameAsWholeReading(new OpenAiVendor(), [], null, Broken(Chunk.Replace(" confirmation", "#", StringComparison.Ordinal)));
    }

    [TestCaseSource(nameof(NamedStreams))]
    public void EveryEventOfADocumentedNamedStream_ReadForUsage_GivesWhatAWholeReadingGives(string fixture)
    {
        IVendorAdapter vendor = fixture.StartsWith("anthropic/", StringComparison.Ordinal) ? new AnthropicVendor() : new CohereVendor();
        var events = new List<(string? Name, byte[] Data)>();
        new SseEventParser().Feed(File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, fixture)), (name, data) => events.Add((name, data.ToArray())));
        Assert.That(events, Is.Not.Empty);

        // One reader of each kind for the whole stream, as the tap and a normalized call each have.
        var fast = vendor.CreateStreamReader();
        var whole = vendor.CreateStreamReader();
        foreach (var (name, data) in events)
        {
            Assert.That(Outcome(() => fast.ReadUsage(name, data, null)), Is.EqualTo(Outcome(() => StreamUpdate.UsageOf(whole.Read(name, data)))),
                $"{name}: {Encoding.UTF8.GetString(data)}");
        }
    }

    [Test]
    public void TextDeltas_ReadForUsage_AllocateNothing()
    {
        var anthropic = new AnthropicVendor().CreateStreamReader();
        var cohere = new CohereVendor().CreateStreamReader();
        var text = Encoding.UTF8.GetBytes(TextDelta);
        var content = Encoding.UTF8.GetBytes(ContentDelta);
        Assert.That(anthropic.ReadUsage("content_block_delta", text, null), Is.EqualTo(StreamUpdate.Nothing));
        Assert.That(cohere.ReadUsage("content-delta", content, null), Is.EqualTo(StreamUpdate.Nothing));

        // Allocation on this thread is exact (not timing): most events of a stream are text deltas.
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            anthropic.ReadUsage("content_block_delta", text, "claude-sonnet-5-5");
            cohere.ReadUsage("content-delta", content, null);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static void AssertSameAsWholeReading(IVendorAdapter vendor, (string Name, string Data)[] before, string? name, byte[] data)
    {
        var fast = vendor.CreateStreamReader();
        var whole = vendor.CreateStreamReader();
        foreach (var (earlierName, earlier) in before)
        {
            fast.ReadUsage(earlierName, Encoding.UTF8.GetBytes(earlier), null);
            whole.Read(earlierName, Encoding.UTF8.GetBytes(earlier));
        }

        Assert.That(Outcome(() => fast.ReadUsage(name, data, null)), Is.EqualTo(Outcome(() => StreamUpdate.UsageOf(whole.Read(name, data)))));

        // What the event left behind (a tool call followed or not) shows in how both readers take the same next events.
        foreach (var (nextName, next) in NextEvents(vendor))
        {
            var bytes = Encoding.UTF8.GetBytes(next);
            Assert.That(Outcome(() => fast.ReadUsage(nextName, bytes, null)), Is.EqualTo(Outcome(() => StreamUpdate.UsageOf(whole.Read(nextName, bytes)))), next);
        }
    }

    private static (string Name, string Data)[] NextEvents(IVendorAdapter vendor) => vendor is AnthropicVendor
        ?
        [
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"1"}}"""),
            ("content_block_stop", """{"type":"content_block_stop","index":1}"""),
        ]
        : vendor is CohereVendor ? [("tool-call-delta", """{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"1"}}}}}""")]
        : [];

    // The update, or the failure's exception type: a fast reading must fail where, and as, the whole reading fails.
    private static (StreamUpdate Update, string? Failure) Outcome(Func<StreamUpdate> read)
    {
        try
        {
            return (read(), null);
        }
        catch (Exception ex)
        {
            return (default, ex.GetType().Name);
        }
    }
}
