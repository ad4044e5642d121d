using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Schema;

namespace Gateway.Tests.Functional;

/// <summary>/openapi/v1.json describes both endpoints and the error shape, in step with the code.</summary>
public sealed class OpenApiDocumentTests : GatewayFixture
{
    private JsonElement _document;

    [OneTimeSetUp]
    public async Task PrepareAsync()
    {
        using var response = await Gateway.Client.GetAsync("/openapi/v1.json");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/json"));
        _document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private JsonElement Schema(string name) => _document.GetProperty("components").GetProperty("schemas").GetProperty(name);

    private static IEnumerable<string> Names(JsonElement schema) => schema.GetProperty("properties").EnumerateObject().Select(p => p.Name);

    private static readonly string[] RequestFields = typeof(TaskRequest).GetProperties()
        .Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name).ToArray();

    [Test]
    public void Document_HasBothEndpointsAndTheirAliases()
    {
        Assert.That(_document.GetProperty("openapi").GetString(), Does.StartWith("3."));
        Assert.That(_document.GetProperty("paths").EnumerateObject().Select(p => p.Name),
            Is.EquivalentTo(new[] { "/v1/ai/generate", "/v1/ai/summarize", "/api/ai/generate", "/api/ai/summarize" }));
    }

    [Test]
    public void RequestSchemas_MatchTheInternalSchemaRecord()
    {
        Assert.That(Names(Schema("GenerateRequest")), Is.EquivalentTo(RequestFields));
        Assert.That(Names(Schema("SummarizeRequest")), Is.EquivalentTo(RequestFields.Except(["messages"])));
        Assert.That(Schema("SummarizeRequest").GetProperty("required").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "context" }));
    }

    [Test]
    public async Task ProblemSchema_HasEveryFieldTheGatewayWrites()
    {
        using var response = await Gateway.Client.PostAsync("/v1/ai/generate", new StringContent("{}"));
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var written = problem.EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(written, Is.SubsetOf(Names(Schema("Problem"))));
        Assert.That(Schema("Problem").GetProperty("required").EnumerateArray().Select(e => e.GetString()), Is.EquivalentTo(written));
    }

    [TestCase("/v1/ai/generate")]
    [TestCase("/v1/ai/summarize")]
    public void Endpoint_DescribesItsErrorsAsProblems(string path)
    {
        var responses = _document.GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("responses");
        foreach (var status in new[] { "400", "401", "403", "413", "415", "422", "429", "502", "503", "504" })
        {
            Assert.That(responses.GetProperty(status).GetProperty("content").GetProperty("application/problem+json").GetProperty("schema").GetProperty("$ref").GetString(),
                Is.EqualTo("#/components/schemas/Problem"), status);
        }
    }
}
