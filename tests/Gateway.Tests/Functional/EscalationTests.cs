using System.Net;
using System.Text.Json.Nodes;
using Gateway.Auth;
using Gateway.Errors;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// Every problem document carries the playbook's support escalation template filled in (<c>escalation</c>): the same
/// request id, timestamp, service, endpoint and environment as its fields, a sanitized sample of the payload when the
/// gateway read the body, and the observed error.
/// </summary>
public sealed class EscalationTests : GatewayFixture
{
    private static readonly string AdminKey = ClientKeyHasher.NewKey();

    private static readonly string[] TemplateLines = ["Request ID: ", "Timestamp: ", "Service Name: ", "Endpoint: ", "Environment: ", "Payload: ", "Observed Error: "];

    protected override void EditOverrides(JsonObject overrides)
        => overrides["Gateway"]!["Admin"] = new JsonObject { ["KeySha256"] = ClientKeyHasher.HashHex(AdminKey) };

    // requests show, as an operator runs it against this gateway.
    private async Task<(int Exit, string Output, string Error)> RequestsShowAsync(string requestId, string? key)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Environment.SetEnvironmentVariable(RequestsCommand.KeyVariable, key);
        try
        {
            var exit = await RequestsCommand.RunAsync(["requests", "show", requestId, "--url", Gateway.BaseAddress.ToString()], output, error);
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(RequestsCommand.KeyVariable, null);
        }
    }

    private async Task<JsonObject> ProblemAsync(string path, string? key, string body, HttpStatusCode expected)
    {
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, path, key, body));
        Assert.That(response.StatusCode, Is.EqualTo(expected));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private static string[] Lines(JsonObject problem) => ((string)problem["escalation"]!).Split('\n');

    [Test]
    public async Task ValidationProblem_HasTheTemplate_WithTheProblemsFields_AndASanitizedPayload()
    {
        var body = """{"prompt":"Write to jane.doe@example.com about card 4111 1111 1111 1111","temperature":7}""";
        var problem = await ProblemAsync("/v1/ai/generate", Gateway.ClientKeys["team-a"], body, HttpStatusCode.BadRequest);

        var lines = Lines(problem);
        Assert.That(lines.Select(l => TemplateLines.FirstOrDefault(l.StartsWith)), Is.EqualTo(TemplateLines), "the template's lines, in order");
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo($"Request ID: {problem["requestId"]}"));
            Assert.That(DateTime.Parse(lines[1]["Timestamp: ".Length..], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal),
                Is.EqualTo((DateTime)problem["timestamp"]!).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(lines[2], Is.EqualTo($"Service Name: {problem["service"]}"));
            Assert.That(lines[3], Is.EqualTo("Endpoint: POST /v1/ai/generate"));
            Assert.That(lines[4], Is.EqualTo("Environment: testing"));
            Assert.That(lines[5], Does.Contain("[EMAIL]").And.Contain("[CARD]").And.Contain("\"temperature\":7"));
            Assert.That(lines[5], Does.Not.Contain("jane.doe").And.Not.Contain("4111"));
            Assert.That(lines[6], Does.StartWith("Observed Error: 400 ").And.Contain("(validation_failed)").And.Contain("temperature"));
        });
    }

    [Test]
    public async Task RefusedBeforeTheBodyIsRead_SaysSo()
    {
        var problem = await ProblemAsync(VendorCase.OpenAi.GatewayPath, null, VendorCase.OpenAi.RequestBody, HttpStatusCode.Unauthorized);

        Assert.That(Lines(problem)[5], Is.EqualTo("Payload: (not available: the gateway did not hold the body in memory)"));
        Assert.That(Lines(problem)[6], Does.StartWith("Observed Error: 401 Missing or unknown client key (unauthenticated)"));
    }

    [Test]
    public async Task VendorErrorOnPassthrough_HasThePayloadSample()
    {
        Vendors.Reset();
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json")
                .WithBody("""{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"""));

        var problem = await ProblemAsync(VendorCase.OpenAi.GatewayPath, Gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody, HttpStatusCode.BadGateway);

        Assert.That(Lines(problem)[5], Is.EqualTo("Payload: " + VendorCase.OpenAi.RequestBody));
        Assert.That(Lines(problem)[6], Does.StartWith("Observed Error: 502 ").And.Contain("(vendor_auth_failed)"));
        Assert.That((string)problem["escalation"]!, Does.Not.Contain(Gateway.VendorKeys["openai"]));
    }

    [Test]
    public async Task RequestsShow_PrintsTheSameBlock_ForTheSameRequestId()
    {
        var body = """{"prompt":"Call +1 415 555 2671 please","temperature":7}""";
        var problem = await ProblemAsync("/v1/ai/generate", Gateway.ClientKeys["team-a"], body, HttpStatusCode.BadRequest);

        var (exit, output, error) = await RequestsShowAsync((string)problem["requestId"]!, AdminKey);

        Assert.That(exit, Is.Zero, error);
        Assert.That(output, Is.EqualTo((string)problem["escalation"]! + "\n"));
        Assert.That(output, Does.Contain("[PHONE]").And.Not.Contain("555 2671"));
    }

    [Test]
    public async Task RequestsShow_RefusesAWrongKey_AndSaysWhenNothingIsKept()
    {
        var problem = await ProblemAsync(VendorCase.OpenAi.GatewayPath, null, VendorCase.OpenAi.RequestBody, HttpStatusCode.Unauthorized);

        var wrong = await RequestsShowAsync((string)problem["requestId"]!, Gateway.ClientKeys["team-a"]);
        var unknown = await RequestsShowAsync("0123456789abcdef0123456789abcdef", AdminKey);
        var noKey = await RequestsShowAsync((string)problem["requestId"]!, null);

        Assert.Multiple(() =>
        {
            Assert.That(wrong.Exit, Is.EqualTo(1));
            Assert.That(wrong.Error, Does.StartWith("401: "));
            Assert.That(unknown.Exit, Is.EqualTo(1));
            Assert.That(unknown.Error, Does.StartWith("404: ").And.Contain("kept for 01:00:00"));
            Assert.That(noKey.Exit, Is.EqualTo(2));
            Assert.That(noKey.Error, Does.Contain(RequestsCommand.KeyVariable));
        });
    }
}
