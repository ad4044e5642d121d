using System.Text;
using System.Text.Json;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Vendors;

namespace Gateway.Tests.Vendors.Usage;

/// <summary>
/// The one-pass reader of a passthrough answer's <c>model</c> and <c>usage</c> reads what a whole-document parse reads
/// (the reference below, which the gateway used before), on the shapes vendors send and on the odd ones they might.
/// </summary>
public sealed class TopLevelUsageTests
{
    [TestCase("""{"id":"x","model":"gpt-6-luna","usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}""")]
    [TestCase("""{"usage":{"input_tokens":7,"output_tokens":9,"cache_read_input_tokens":2},"model":"claude-x","content":[{"type":"text","text":"hi"}]}""")]
    [TestCase("""{"usage":{"prompt_tokens":5,"prompt_tokens_details":{"cached_tokens":1,"nested":[1,{"a":2}]},"total_tokens":5}}""")]
    [TestCase("""{"usage":{"input_tokens":3,"prompt_tokens":99}}""")]
    [TestCase("""{"usage":{"input_tokens":"3","prompt_tokens":4}}""")]
    [TestCase("""{"usage":{"output_tokens":1e3}}""")]
    [TestCase("""{"usage":{"output_tokens":99999999999}}""")]
    [TestCase("""{"usage":{"output_tokens":-4,"input_tokens":2.5}}""")]
    [TestCase("""{"usage":null,"model":null}""")]
    [TestCase("""{"usage":[1,2],"model":42}""")]
    [TestCase("""{"usage":{},"model":"a"}""")]
    [TestCase("""{"model":"first","model":"second","usage":{"input_tokens":1},"usage":{"input_tokens":2}}""")]
    [TestCase("""{"data":[{"embedding":[0.1,0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}""")]
    [TestCase("""{"model":"caf\u00e9 \"q\"","usage":{"input_tokens":1}}""")]
    [TestCase("""{"object":"list","data":[]}""")]
    [TestCase("""[{"usage":{"input_tokens":1}}]""")]
    [TestCase(""" "text" """)]
    [TestCase("""{"usage":{"input_tokens":1}""")]
    [TestCase("""{"usage":{"input_tokens":1},}""")]
    [TestCase("""not json""")]
    [TestCase("")]
    [TestCase("""  {"usage" : { "input_tokens" : 4 } ,"model":"m"}  """)]
    public void ReadsWhatADocumentParseReads(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        Assert.That(VendorJson.TopLevelUsage(body), Is.EqualTo(Reference(body)));
    }

    [Test]
    public void TheReferenceItself_ReadsTheUsualShape()
    {
        var body = """{"model":"m","usage":{"prompt_tokens":12,"completion_tokens":30}}"""u8.ToArray();
        Assert.That(VendorJson.TopLevelUsage(body), Is.EqualTo(new PassthroughUsage(new TokenUsage(12, 30), "m")));
    }

    [Test]
    public void TooDeep_ReadsNothing_LikeTheDocumentParse()
    {
        var body = Encoding.UTF8.GetBytes("{\"usage\":{\"input_tokens\":1},\"x\":" + new string('[', 80) + new string(']', 80) + "}");
        Assert.That(VendorJson.TopLevelUsage(body), Is.EqualTo(default(PassthroughUsage)));
        Assert.That(Reference(body), Is.EqualTo(default(PassthroughUsage)));
    }

    // What the gateway read before: the whole body parsed into a document, then looked up (the last of duplicates wins).
    private static PassthroughUsage Reference(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            return new PassthroughUsage(Counts(Child(root, "usage")), String(root, "model"));
        }
        catch (JsonException)
        {
            return default;
        }

        static JsonElement Child(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;
        static string? String(JsonElement e, string name) => Child(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
        static int? Int(JsonElement e, string name) => Child(e, name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out var n) ? n : null;
        static TokenUsage? Counts(JsonElement usage)
        {
            var input = Int(usage, "input_tokens") ?? Int(usage, "prompt_tokens");
            var output = Int(usage, "output_tokens") ?? Int(usage, "completion_tokens");
            return input is null && output is null ? null : new TokenUsage(input ?? 0, output ?? 0);
        }
    }
}
