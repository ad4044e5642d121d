using Gateway.Transforms.Contracts;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Vendors;
using Gateway.Transforms.Vendors.Anthropic;
using Gateway.Transforms.Vendors.Cohere;
using Gateway.Transforms.Vendors.OpenAi;

namespace Gateway.Tests.Vendors;

/// <summary>What every vendor adapter must do; each adapter runs this whole class against its own documented fixtures.</summary>
public abstract class VendorAdapterContract
{
    private const string Expected = "Customer requests invoice review and Q3 delivery confirmation.";

    protected abstract IVendorAdapter Adapter { get; }

    protected abstract VendorCase Case { get; }

    protected abstract TokenUsage ExpectedUsage { get; }

    /// <summary>Where the adapter puts the output-token limit in the vendor request.</summary>
    protected abstract string MaxTokensField { get; }

    /// <summary>True when the vendor takes the system instruction as a message rather than a top-level field.</summary>
    protected abstract bool SystemAsMessage { get; }

    private static VendorRequest Request(bool stream = false, bool json = false) => new(
        "model-x", "Be brief.", [new ChatMessage("user", "Hi"), new ChatMessage("assistant", "Hello"), new ChatMessage("user", "Summarize")], 321, 0.5, json, stream);

    [Test]
    public void RejectsKey_TheVendorsInvalidKeyAnswer_IsAKeyVerdict_OtherAnswersAreNot()
    {
        Assert.That(Adapter.RejectsKey(Encoding.UTF8.GetBytes(Case.ReadFixture(Case.Vendor + "/golden/error-401.json"))), Is.True);
        Assert.That(Adapter.RejectsKey(Encoding.UTF8.GetBytes(Case.ReadFixture(Case.Vendor + "/golden/error-429.json"))), Is.False);
        Assert.That(Adapter.RejectsKey(Encoding.UTF8.GetBytes(Case.ReadFixture(Case.Vendor + "/golden/error-400.json"))), Is.False);
        Assert.That(Adapter.RejectsKey("<html>401 Authorization Required</html>"u8), Is.False, "a proxy's page says nothing of the vendor key");
    }

    [Test]
    public void Name_IsRegisteredInTheCatalog() => Assert.That(VendorCatalog.Default.TryGet(Adapter.Name, out var registered) ? registered : null, Is.TypeOf(Adapter.GetType()));

    [Test]
    public void ApplyCredentials_UsesACredentialHeaderThatIsStrippedFromCallers()
    {
        var headers = new HttpRequestMessage().Headers;
        Adapter.ApplyCredentials(headers, "vendor-key-123");
        var carrying = headers.Where(h => h.Value.Any(v => v.Contains("vendor-key-123", StringComparison.Ordinal))).Select(h => h.Key).Single();
        Assert.That(Adapter.CredentialHeaders, Has.Member(carrying).Using((IEqualityComparer<string>)StringComparer.OrdinalIgnoreCase));
    }

    [Test]
    public void WriteRequest_MapsModelMessagesSystemLimitsAndTemperature()
    {
        var body = JsonDocument.Parse(Adapter.WriteRequest(Request())).RootElement;
        Assert.That(body.GetProperty("model").GetString(), Is.EqualTo("model-x"));
        Assert.That(body.GetProperty(MaxTokensField).GetInt32(), Is.EqualTo(321));
        Assert.That(body.GetProperty("temperature").GetDouble(), Is.EqualTo(0.5));
        var roles = body.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()).ToList();
        if (SystemAsMessage)
        {
            Assert.That(roles, Is.EqualTo(new[] { "system", "user", "assistant", "user" }));
            Assert.That(body.GetProperty("messages")[0].GetProperty("content").GetString(), Is.EqualTo("Be brief."));
        }
        else
        {
            Assert.That(roles, Is.EqualTo(new[] { "user", "assistant", "user" }));
            Assert.That(body.GetProperty("system").GetString(), Is.EqualTo("Be brief."));
        }

        Assert.That(body.TryGetProperty("stream", out _), Is.False);
    }

    [Test]
    public void WriteRequest_Stream_AsksForAStream()
        => Assert.That(JsonDocument.Parse(Adapter.WriteRequest(Request(stream: true))).RootElement.GetProperty("stream").GetBoolean(), Is.True);

    [Test]
    public void ReadResponse_DocumentedShape_MapsTextFinishAndUsage()
    {
        var response = Adapter.ReadResponse(Encoding.UTF8.GetBytes(Case.ReadFixture(Case.ResponseFixture)));
        Assert.Multiple(() =>
        {
            Assert.That(response.Text, Is.EqualTo(Expected));
            Assert.That(response.FinishReason, Is.EqualTo(FinishReasons.Stop));
            Assert.That(response.Usage, Is.EqualTo(ExpectedUsage));
            Assert.That(response.Id, Is.Not.Empty);
        });
    }

    [TestCase("")]
    [TestCase("{")]
    [TestCase("[]")]
    [TestCase("{\"unexpected\": true}")]
    public void ReadResponse_NotTheDocumentedShape_ThrowsVendorFormatException(string body)
        => Assert.That(() => Adapter.ReadResponse(Encoding.UTF8.GetBytes(body)), Throws.TypeOf<VendorFormatException>());

    // The documented answer with a byte no UTF-8 text has in its text: malformed, as any body that is not JSON text.
    [Test]
    public void ReadResponse_TextThatIsNotUtf8_ThrowsVendorFormatException()
    {
        var body = Encoding.UTF8.GetBytes(Case.ReadFixture(Case.ResponseFixture));
        var at = body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Expected[..8]));
        Assert.That(at, Is.GreaterThan(0), "the answer's text in the fixture");
        body[at] = 0xFF;
        Assert.That(() => Adapter.ReadResponse(body), Throws.TypeOf<VendorFormatException>());
    }

    [Test]
    public async Task StreamReader_DocumentedStream_GivesTheSameTextAndUsage_AndCompletes()
    {
        var reader = Adapter.CreateStreamReader();
        await using var sse = new SseReader(new MemoryStream(Encoding.UTF8.GetBytes(Case.ReadFixture(Case.StreamFixture))));
        var text = new StringBuilder();
        int? input = null, output = null;
        string? finish = null;
        var completed = false;
        while (await sse.ReadAsync(default))
        {
            Assert.That(completed, Is.False, "nothing follows completion");
            var update = reader.Read(sse.EventName, sse.Data);
            text.Append(update.Delta);
            input = update.InputTokens ?? input;
            output = update.OutputTokens ?? output;
            finish = update.FinishReason ?? finish;
            completed |= update.Completed;
            Assert.That(update.Error, Is.Null);
        }

        Assert.Multiple(() =>
        {
            Assert.That(completed, Is.True);
            Assert.That(text.ToString(), Is.EqualTo(Expected));
            Assert.That(new TokenUsage(input ?? -1, output ?? -1), Is.EqualTo(ExpectedUsage));
            Assert.That(finish, Is.EqualTo(FinishReasons.Stop));
        });
    }

    [Test]
    public void ReadErrorMessage_DocumentedErrorBody_GivesItsMessage()
    {
        var body = File.ReadAllText(Path.Combine(RepoPaths.Fixtures, Case.Vendor, "golden", "error-429.json"));
        Assert.That(Adapter.ReadErrorMessage(Encoding.UTF8.GetBytes(body)), Is.Not.Empty.And.Not.Contains("{"));
    }

    [Test]
    public void ReadErrorMessage_NotJson_IsNull() => Assert.That(Adapter.ReadErrorMessage("<html>502</html>"u8), Is.Null);
}

[TestFixture]
public sealed class OpenAiAdapterTests : VendorAdapterContract
{
    protected override IVendorAdapter Adapter { get; } = new OpenAiVendor();

    protected override VendorCase Case => VendorCase.OpenAi;

    protected override TokenUsage ExpectedUsage => new(28, 11);

    protected override string MaxTokensField => "max_completion_tokens";

    protected override bool SystemAsMessage => true;

    [Test]
    public void WriteRequest_Stream_AsksForUsageInTheStream()
        => Assert.That(JsonDocument.Parse(Adapter.WriteRequest(new VendorRequest("m", null, [new ChatMessage("user", "x")], 1, null, false, true)))
            .RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean(), Is.True);
}

[TestFixture]
public sealed class AnthropicAdapterTests : VendorAdapterContract
{
    protected override IVendorAdapter Adapter { get; } = new AnthropicVendor();

    protected override VendorCase Case => VendorCase.Anthropic;

    protected override TokenUsage ExpectedUsage => new(25, 12);

    protected override string MaxTokensField => "max_tokens";

    protected override bool SystemAsMessage => false;

    [Test]
    public void ApplyCredentials_AddsApiVersion_UnlessTheCallerSentOne()
    {
        var headers = new HttpRequestMessage().Headers;
        Adapter.ApplyCredentials(headers, "k");
        Assert.That(headers.GetValues("anthropic-version"), Is.EqualTo(new[] { "2023-06-01" }));
        var own = new HttpRequestMessage().Headers;
        own.Add("anthropic-version", "2024-10-22");
        Adapter.ApplyCredentials(own, "k");
        Assert.That(own.GetValues("anthropic-version"), Is.EqualTo(new[] { "2024-10-22" }));
    }
}

[TestFixture]
public sealed class CohereAdapterTests : VendorAdapterContract
{
    protected override IVendorAdapter Adapter { get; } = new CohereVendor();

    protected override VendorCase Case => VendorCase.Cohere;

    protected override TokenUsage ExpectedUsage => new(12, 9);

    protected override string MaxTokensField => "max_tokens";

    protected override bool SystemAsMessage => true;
}
