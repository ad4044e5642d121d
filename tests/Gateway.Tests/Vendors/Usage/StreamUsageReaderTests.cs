using System.Text;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Vendors;
using Gateway.Transforms.Vendors.OpenAi;

namespace Gateway.Tests.Vendors.Usage;

/// <summary>
/// The usage tap reads every event of a passthrough stream for its usage, model and finish only (ReadUsage). OpenAI's
/// reader does that for chat completion chunks in one pass, without a document or a string per event: what it gives
/// must be exactly what reading the whole event gives (or fail where that fails), event by event.
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

    private static (StreamUpdate Update, string? Failure) Outcome(Func<StreamUpdate> read)
    {
        try
        {
            return (read(), null);
        }
        catch (VendorFormatException)
        {
            return (default, "VendorFormatException");
        }
    }
}
