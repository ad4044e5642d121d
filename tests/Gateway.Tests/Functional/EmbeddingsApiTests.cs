using System.ClientModel;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using OpenAI;
using OpenAI.Embeddings;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// The OpenAI-compatible embeddings API (<c>/v1/embeddings</c>) driven by the official OpenAI .NET SDK: OpenAI and Cohere
/// (v2 embed) answer in OpenAI's list shape, in float or base64 encoding; a vendor without embeddings, and malformed
/// requests, are 400s in OpenAI's error shape.
/// </summary>
public sealed class EmbeddingsApiTests : GatewayFixture
{
    private static readonly float[][] OpenAiVectors = [[0.0023064255f, -0.009327292f, 0.015797347f, -0.0077780345f], [-0.0069292834f, 0.0145f, -0.0251f, 0.0038f]];
    private static readonly float[][] CohereVectors = [[0.016296387f, -0.008354187f, -0.04699707f, -0.07104492f], [-0.011947632f, 0.0032691956f, 0.02078247f, -0.0022659302f]];

    [OneTimeSetUp]
    public void VendorsAnswer()
    {
        Vendors.OpenAi.Given(Request.Create().WithPath("/v1/embeddings").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture("openai/embeddings.json")));
        Vendors.Cohere.Given(Request.Create().WithPath("/v2/embed").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.Cohere.ReadFixture("cohere/embed.json")));
    }

    [SetUp]
    public void ForgetCalls()
    {
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].ResetLogEntries();
        }
    }

    private EmbeddingClient Sdk(string model) => new(model, new ApiKeyCredential(Gateway.ClientKeys["team-a"]),
        new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/v1"), RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });

    [TestCase("openai/text-embedding-3-small", "openai", "text-embedding-3-small", 8)]
    [TestCase("cohere/embed-v4.0", "cohere", "embed-v4.0", 2)]
    public async Task OpenAiSdk_Embeddings_FromEachVendor_InOpenAisShape(string model, string vendor, string modelId, int tokens)
    {
        var options = new EmbeddingGenerationOptions { Dimensions = 4 };
        OpenAIEmbeddingCollection embeddings = await Sdk(model).GenerateEmbeddingsAsync(["hello", "goodbye"], options);

        var expected = vendor == "openai" ? OpenAiVectors : CohereVectors;
        Assert.That(embeddings.Select(e => e.ToFloats().ToArray()), Is.EqualTo(expected));
        Assert.That(embeddings.Select(e => e.Index), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(embeddings.Usage.InputTokenCount, Is.EqualTo(tokens));
        Assert.That(embeddings.Model, Is.EqualTo(modelId));

        // The vendor's own request shape.
        var sent = JsonNode.Parse(Vendors[vendor].LogEntries.Single().RequestMessage!.Body!)!;
        Assert.That(sent["model"]!.GetValue<string>(), Is.EqualTo(modelId));
        if (vendor == "openai")
        {
            Assert.That(sent["input"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "hello", "goodbye" }));
            Assert.That((sent["encoding_format"]!.GetValue<string>(), sent["dimensions"]!.GetValue<int>()), Is.EqualTo(("float", 4)));
        }
        else
        {
            Assert.That(sent["texts"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "hello", "goodbye" }));
            Assert.That((sent["input_type"]!.GetValue<string>(), sent["embedding_types"]!.AsArray().Single()!.GetValue<string>(), sent["output_dimension"]!.GetValue<int>()),
                Is.EqualTo(("search_document", "float", 4)));
        }
    }

    [Test]
    public async Task FloatEncoding_IsArraysOfNumbers_AndBase64IsLittleEndianFloat32s()
    {
        async Task<JsonElement> EmbedAsync(string encoding)
        {
            using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/api/ai/v1/embeddings", Gateway.ClientKeys["team-a"],
                $$"""{"model": "cohere/embed-v4.0", "input": ["hello", "goodbye"], "encoding_format": "{{encoding}}"}"""));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        }

        var floats = await EmbedAsync("float");
        Assert.That(floats.GetProperty("object").GetString(), Is.EqualTo("list"));
        Assert.That(floats.GetProperty("data")[1].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()), Is.EqualTo(CohereVectors[1]));
        Assert.That(floats.GetProperty("usage").GetRawText(), Is.EqualTo("""{"prompt_tokens":2,"total_tokens":2}"""));
        var base64 = Convert.FromBase64String((await EmbedAsync("base64")).GetProperty("data")[0].GetProperty("embedding").GetString()!);
        Assert.That(Enumerable.Range(0, base64.Length / 4).Select(i => System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(base64.AsSpan(i * 4))), Is.EqualTo(CohereVectors[0]));
    }

    [TestCase("""{"model": "anthropic/claude-sonnet-5-5", "input": "hello"}""", "model", "offers no embeddings")]
    [TestCase("""{"input": "hello"}""", "model", "is required")]
    [TestCase("""{"model": "openai/text-embedding-3-small"}""", "input", "is required")]
    [TestCase("""{"model": "openai/text-embedding-3-small", "input": []}""", "input", "array of 1 to 2048 texts")]
    [TestCase("""{"model": "openai/text-embedding-3-small", "input": [[101, 102]]}""", "input[0]", "token arrays are not supported")]
    [TestCase("""{"model": "openai/text-embedding-3-small", "input": ["ok", ""]}""", "input[1]", "must not be empty")]
    [TestCase("""{"model": "openai/text-embedding-3-small", "input": "hello", "encoding_format": "int8"}""", "encoding_format", "float or base64")]
    [TestCase("""{"model": "openai/text-embedding-3-small", "input": "hello", "dimensions": 0}""", "dimensions", "from 1 to 16384")]
    [TestCase("""{"model": "openai/text-embedding-3-small", "input": "hello", "input_type": "query"}""", "input_type", "is not a parameter of the embeddings API")]
    public async Task InvalidRequest_Is400_InOpenAisErrorShape(string body, string param, string message)
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, "/v1/embeddings", Gateway.ClientKeys["team-a"], body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.That(error.GetProperty("param").GetString(), Is.EqualTo(param));
        Assert.That(error.GetProperty("message").GetString(), Does.Contain(message));
        Assert.That(Vendors.OpenAi.LogEntries.Concat(Vendors.Cohere.LogEntries).Concat(Vendors.Anthropic.LogEntries), Is.Empty);
    }
}
