using System.Net;
using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>Checks a gateway-made error: problem+json with every field a support escalation needs.</summary>
public static class ProblemAssert
{
    /// <param name="now">The gateway's clock when it is a test's fake one; else the machine's.</param>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code, string endpoint, DateTimeOffset? now = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(status), body);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), body);
        var problem = JsonDocument.Parse(body).RootElement;
        var requestId = response.Headers.GetValues("x-request-id").Single();
        Assert.Multiple(() =>
        {
            Assert.That(problem.GetProperty("type").GetString(), Is.EqualTo("urn:ai-gateway:problem:" + code));
            Assert.That(problem.GetProperty("title").GetString(), Is.Not.Empty);
            Assert.That(problem.GetProperty("status").GetInt32(), Is.EqualTo((int)status));
            Assert.That(problem.GetProperty("detail").GetString(), Is.Not.Empty);
            Assert.That(problem.GetProperty("code").GetString(), Is.EqualTo(code));
            Assert.That(problem.GetProperty("requestId").GetString(), Does.Match("^[0-9a-f]{32}$").And.EqualTo(requestId));
            Assert.That(problem.GetProperty("timestamp").GetDateTimeOffset(), Is.EqualTo(now ?? DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
            Assert.That(problem.GetProperty("service").GetString(), Is.EqualTo("AI Integration Gateway"));
            Assert.That(problem.GetProperty("endpoint").GetString(), Is.EqualTo(endpoint));
            Assert.That(problem.GetProperty("environment").GetString(), Is.EqualTo("testing"));
        });
        return problem;
    }
}
