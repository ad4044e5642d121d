using System.Text.Json.Nodes;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Vendors;

namespace Gateway.Tests.Vendors;

/// <summary>The sampling parameters of the OpenAI-compatible API, written under each vendor's own names.</summary>
public sealed class ChatRequestFieldsTests
{
    private static JsonObject Write(string vendor, double? topP = null, string[]? stop = null, long? seed = null, params KeyValuePair<string, string>[] extra)
        => JsonNode.Parse(Adapter(vendor).WriteRequest(new VendorRequest(
            "m", null, [new ChatMessage(ChatMessage.User, "Hi")], 100, null, Json: false, Stream: false, ExtraFields: extra, TopP: topP, Stop: stop, Seed: seed)))!.AsObject();

    private static IVendorAdapter Adapter(string name) => VendorCatalog.Default.TryGet(name, out var adapter) ? adapter : throw new ArgumentException(name);

    [TestCase("openai", "top_p", "stop", "seed")]
    [TestCase("anthropic", "top_p", "stop_sequences", null)]
    [TestCase("cohere", "p", "stop_sequences", "seed")]
    public void TopPStopAndSeed_GoUnderTheVendorsNames(string vendor, string topP, string stop, string? seed)
    {
        var body = Write(vendor, 0.9, ["END", "STOP"], 7);
        Assert.That(body[topP]!.GetValue<double>(), Is.EqualTo(0.9));
        Assert.That(body[stop]!.AsArray().Select(s => s!.GetValue<string>()), Is.EqualTo(new[] { "END", "STOP" }));
        Assert.That(seed is null ? body.ContainsKey("seed") : body[seed]!.GetValue<long>() == 7, Is.EqualTo(seed is not null),
            "a vendor without seeds gets none (the API refuses such a request before it is planned)");
        Assert.That(Write(vendor).Select(p => p.Key), Has.None.AnyOf("top_p", "p", "stop", "stop_sequences", "seed"), "nothing of them when not asked for");
    }

    [Test]
    public void AnAliasDefault_IsTheCallersWhenTheCallerSetsTheSameParameter()
    {
        var aliasDefault = new KeyValuePair<string, string>("top_p", "0.5");
        Assert.That(Write("openai", extra: aliasDefault)["top_p"]!.GetValue<double>(), Is.EqualTo(0.5));
        var both = Write("openai", topP: 0.9, extra: aliasDefault);
        Assert.That(both["top_p"]!.GetValue<double>(), Is.EqualTo(0.9));
        Assert.That(both.ToJsonString().Split("\"top_p\"").Length - 1, Is.EqualTo(1), "written once");
    }
}
