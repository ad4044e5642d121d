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
    private string _text = "";

    [OneTimeSetUp]
    public async Task PrepareAsync()
    {
        using var response = await Gateway.Client.GetAsync("/openapi/v1.json");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/json"));
        _text = await response.Content.ReadAsStringAsync();
        _document = JsonDocument.Parse(_text).RootElement;
    }

    private JsonElement Schema(string name) => _document.GetProperty("components").GetProperty("schemas").GetProperty(name);

    private static IEnumerable<string> Names(JsonElement schema) => schema.GetProperty("properties").EnumerateObject().Select(p => p.Name);

    // The fields of the internal schema on the wire (what the OpenAI-compatible API alone sets is not serialized).
    private static readonly string[] RequestFields = typeof(TaskRequest).GetProperties()
        .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
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

    [Test]
    public async Task Document_IsLintCleanForRedocly()
    {
        var folder = Directory.CreateTempSubdirectory("openapi-").FullName;
        var file = Path.Combine(folder, "v1.json");
        await File.WriteAllTextAsync(file, _text);

        var (exit, output) = await ToolProcess.RunAsync(RepoPaths.NpmTool(".bin/redocly"), folder, "lint", file);

        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("Your API description is valid").And.Not.Match(@"You have \d+ warning"), output);
    }

    [Test]
    public async Task GeneratedTypeScriptTypes_LetCallersOmitDefaults_TypeTheOutput_AndNarrowStreamEvents()
    {
        var folder = Directory.CreateTempSubdirectory("openapi-ts-").FullName;
        var file = Path.Combine(folder, "v1.json");
        await File.WriteAllTextAsync(file, _text);
        var (generated, log) = await ToolProcess.RunAsync(RepoPaths.NpmTool(".bin/openapi-typescript"), folder, file, "-o", Path.Combine(folder, "v1.ts"));
        Assert.That(generated, Is.Zero, log);

        // What a TypeScript caller writes: minimal requests, both kinds of output, every stream event, one narrowing.
        await File.WriteAllTextAsync(Path.Combine(folder, "caller.ts"), """
            import type { components } from "./v1";
            type S = components["schemas"];
            const minimal: S["GenerateRequest"] = { prompt: "Hi" };
            const summarize: S["SummarizeRequest"] = { context: "Please review the attached invoice." };
            const text: S["GenerateResponse"]["output"] = "Customer requests invoice review.";
            const json: S["GenerateResponse"]["output"] = { risks: ["supply", "pricing"] };
            const summary: S["SummarizeResponse"]["summary"] = "Short.";
            const events: S["StreamEvent"][] = [
              { event: "delta", data: { text: "Customer" } },
              { event: "usage", data: { input_tokens: 28, output_tokens: 11, total_tokens: 39, cost_usd: 0.0000108 } },
              { event: "done", data: { finish_reason: "stop", provider: "openai", model: "gpt-6-luna", id: null, request_id: "4bf92f35" } },
            ];
            function deltaText(e: S["StreamEvent"]): string { return e.event === "delta" ? e.data.text : e.event === "error" ? e.data.code : ""; }
            // @ts-expect-error unknown fields are refused, as the gateway refuses them
            const typo: S["GenerateRequest"] = { prompt: "Hi", promt: "typo" };
            export { minimal, summarize, text, json, summary, events, deltaText, typo };
            """);
        var (compiled, errors) = await ToolProcess.RunAsync(RepoPaths.NpmTool(".bin/tsc"), folder, "--noEmit", "--strict", "--target", "es2022", "--module", "es2022",
            "--moduleResolution", "bundler", Path.Combine(folder, "caller.ts"));

        Assert.That(compiled, Is.Zero, errors);
    }
}
