using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>Malformed requests to the normalized endpoints get a 4xx problem listing every fault; no vendor is called.</summary>
public sealed class MalformedRequestTests : GatewayFixture
{

    [OneTimeSetUp]
    public void VendorsAnswer()
    {
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].Given(Request.Create().UsingAnyMethod())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
        }
    }

    [TearDown]
    public void NoVendorWasCalled()
        => Assert.That(Vendors.OpenAi.LogEntries.Count() + Vendors.Anthropic.LogEntries.Count() + Vendors.Cohere.LogEntries.Count(), Is.Zero);

    private static readonly string Deep = string.Concat(Enumerable.Repeat("{\"a\":", 40)) + "1" + new string('}', 40);
    private static readonly string ManyTags = "{" + string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"k{i}\":\"v\"")) + "}";

    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string name, string body, params string[] fields) => new TestCaseData("/v1/ai/generate", body, fields).SetName("Generate_" + name);
        TestCaseData Summarize(string name, string body, params string[] fields) => new TestCaseData("/v1/ai/summarize", body, fields).SetName("Summarize_" + name);

        yield return Case("EmptyBody", "", "$");
        yield return Case("JsonNull", "null", "$");
        yield return Case("Array", "[]", "$");
        yield return Case("String", "\"summarize this\"", "$");
        yield return Case("TruncatedJson", "{\"prompt\": \"hi", "$");
        yield return Case("TrailingComma", "{\"prompt\": \"hi\",}", "$");
        yield return Case("DeepNesting", "{\"prompt\":\"x\",\"metadata\":" + Deep + "}", "$");
        yield return Case("NoPromptNoMessages", "{}", "prompt");
        yield return Case("PromptNumber", "{\"prompt\": 1}", "prompt");
        yield return Case("PromptEmpty", "{\"prompt\": \"\"}", "prompt");
        yield return Case("PromptBlank", "{\"prompt\": \"   \"}", "prompt");
        yield return Case("PromptObject", "{\"prompt\": {\"text\": \"hi\"}}", "prompt");
        yield return Case("PromptHuge", "{\"prompt\": \"" + new string('a', 1_000_001) + "\"}", "prompt");
        yield return Case("SystemArray", "{\"prompt\": \"x\", \"system\": [\"be brief\"]}", "system");
        yield return Case("MaxTokensString", "{\"prompt\": \"x\", \"max_tokens\": \"100\"}", "max_tokens");
        yield return Case("MaxTokensZero", "{\"prompt\": \"x\", \"max_tokens\": 0}", "max_tokens");
        yield return Case("MaxTokensFraction", "{\"prompt\": \"x\", \"max_tokens\": 1.5}", "max_tokens");
        yield return Case("MaxTokensHuge", "{\"prompt\": \"x\", \"max_tokens\": 99999999999}", "max_tokens");
        yield return Case("TemperatureString", "{\"prompt\": \"x\", \"temperature\": \"hot\"}", "temperature");
        yield return Case("TemperatureNegative", "{\"prompt\": \"x\", \"temperature\": -0.1}", "temperature");
        yield return Case("TemperatureAboveVendorMax", "{\"prompt\": \"x\", \"temperature\": 1.5, \"model\": \"anthropic/claude-sonnet-5-5\"}", "temperature");
        yield return Case("FormatUnknown", "{\"prompt\": \"x\", \"format\": \"xml\"}", "format");
        yield return Case("StreamString", "{\"prompt\": \"x\", \"stream\": \"yes\"}", "stream");
        yield return Case("UnknownAlias", "{\"prompt\": \"x\", \"model\": \"gpt-9-ultra\"}", "model");
        yield return Case("UnknownProvider", "{\"prompt\": \"x\", \"model\": \"mistral/mistral-large\"}", "model");
        yield return Case("ProviderWithoutModel", "{\"prompt\": \"x\", \"model\": \"openai/\"}", "model");
        yield return Case("ModelNumber", "{\"prompt\": \"x\", \"model\": 42}", "model");
        yield return Case("MessagesString", "{\"messages\": \"hi\"}", "messages");
        yield return Case("MessagesEmpty", "{\"messages\": []}", "messages");
        yield return Case("MessageNotObject", "{\"messages\": [1]}", "messages[0]");
        yield return Case("MessageRoleUnknown", "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}", "messages[0].role");
        yield return Case("MessageNoContent", "{\"messages\": [{\"role\": \"user\"}]}", "messages[0].content");
        yield return Case("MessageExtraField", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\", \"name\": \"bob\"}]}", "messages[0].name");
        yield return Case("OnlySystemMessages", "{\"messages\": [{\"role\": \"system\", \"content\": \"be nice\"}]}", "messages");
        yield return Case("MetadataString", "{\"prompt\": \"x\", \"metadata\": \"tag\"}", "metadata");
        yield return Case("MetadataNumberValue", "{\"prompt\": \"x\", \"metadata\": {\"k\": 1}}", "metadata.k");
        yield return Case("MetadataTooMany", "{\"prompt\": \"x\", \"metadata\": " + ManyTags + "}", "metadata");
        yield return Case("UserTooLong", "{\"prompt\": \"x\", \"user\": \"" + new string('u', 300) + "\"}", "user");
        yield return Case("UnknownField", "{\"prompt\": \"x\", \"promt\": \"typo\"}", "promt");
        yield return Case("DuplicateField", "{\"prompt\": \"x\", \"prompt\": \"y\"}", "prompt");
        yield return Case("MessageDuplicateField", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\", \"content\": \"y\"}]}", "messages[0].content");
        yield return Case("MetadataDuplicateKey", "{\"prompt\": \"x\", \"metadata\": {\"k\": \"a\", \"k\": \"b\"}}", "metadata.k");
        yield return Case("UnknownModelAmongOtherFaults", "{\"model\": \"gpt-9-ultra\", \"max_tokens\": -1}", "model", "max_tokens", "prompt");
        yield return Case("BadModelTemperatureAndNoUserTurn", "{\"model\": \"gpt-9-ultra\", \"temperature\": 9, \"messages\": [{\"role\": \"system\", \"content\": \"x\"}]}",
            "model", "temperature", "messages");
        yield return Case("VendorTemperatureAmongOtherFaults", "{\"prompt\": 1, \"model\": \"anthropic/claude-sonnet-5-5\", \"temperature\": 1.5}", "prompt", "temperature");
        yield return Case("ManyFaultsAtOnce", "{\"prompt\": 1, \"max_tokens\": \"x\", \"format\": \"xml\", \"stream\": 3, \"temperature\": 9}",
            "prompt", "max_tokens", "format", "stream", "temperature");
        yield return Case("LoneHighSurrogateInPrompt", "{\"prompt\": \"a\\ud800\"}", "prompt");
        yield return Case("LoneLowSurrogateInMessage", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\\udc00y\"}]}", "messages[0].content");
        yield return Case("LoneSurrogateInMetadataKey", "{\"prompt\": \"x\", \"metadata\": {\"k\\ud800\": \"v\"}}", "metadata.k\\ud800");
        yield return Case("LoneSurrogateInPropertyName", "{\"prompt\": \"x\", \"pr\\udbffompt\": \"y\"}", "pr\\udbffompt");
        yield return Case("SurrogatesInSeveralPlaces", "{\"prompt\": \"\\ud800\", \"system\": \"\\udfff\", \"metadata\": {\"a\": \"\\ud800\"}}",
            "prompt", "system", "metadata.a");
        yield return Summarize("NoContext", "{\"prompt\": \"Summarize the following email.\"}", "context");
        yield return Summarize("ContextNumber", "{\"context\": 12}", "context");
        yield return Summarize("Messages", "{\"context\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}", "messages");
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Malformed_Is400ValidationFailed_ListingEveryFault(string endpoint, string body, string[] fields)
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, endpoint, Gateway.ClientKeys["team-a"], body));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed", "POST " + endpoint);
        var listed = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.That(listed, Is.EquivalentTo(fields), problem.ToString());
        Assert.That(problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("message").GetString()), Has.All.Not.Empty);
    }

    [Test]
    public async Task InvalidUtf8_Is400ValidationFailed()
    {
        using var request = Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"]);
        request.Content = new ByteArrayContent([.. "{\"prompt\": \""u8, 0xC3, 0x28, 0xFF, .. "\"}"u8]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Gateway.Client.SendAsync(request);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed", "POST /v1/ai/generate");
        Assert.That(problem.GetProperty("errors")[0].GetProperty("field").GetString(), Is.EqualTo("$"));
    }

    [TestCase("text/plain")]
    [TestCase("application/x-www-form-urlencoded")]
    public async Task NotJson_Is415(string contentType)
    {
        using var request = Gateway.Request(HttpMethod.Post, "/v1/ai/summarize", Gateway.ClientKeys["team-a"]);
        request.Content = new StringContent("{\"context\": \"x\"}", Encoding.UTF8, contentType);
        using var response = await Gateway.Client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type", "POST /v1/ai/summarize");
    }

    [Test]
    public async Task ValidSurrogatePair_IsAccepted()
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"],
            "{\"prompt\": \"smile \\ud83d\\ude00\", \"metadata\": {\"\\u00e9t\\u00e9\": \"\\ud83d\\ude00\"}}"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var sent = System.Text.Json.JsonDocument.Parse(Vendors.OpenAi.LogEntries.Single().RequestMessage!.Body!).RootElement.GetProperty("messages");
        Assert.That(sent[sent.GetArrayLength() - 1].GetProperty("content").GetString(), Is.EqualTo("smile 😀"));
        Vendors.OpenAi.ResetLogEntries(); // this valid one was meant to reach the vendor
    }

    [Test]
    public async Task NullFields_AreTreatedAsAbsent()
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/ai/generate", Gateway.ClientKeys["team-a"],
            "{\"prompt\": \"x\", \"system\": null, \"max_tokens\": null, \"metadata\": null}"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Vendors.OpenAi.ResetLogEntries(); // this valid one was meant to reach the vendor
    }
}
