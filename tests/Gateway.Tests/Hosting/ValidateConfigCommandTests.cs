using System.Text.Json.Nodes;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// <c>validate-config [folder]</c>: the start-up checks on a config folder, every error listed, for the platform team's
/// CI before a <c>helm upgrade</c>.
/// </summary>
public sealed class ValidateConfigCommandTests
{
    private string _folder = null!;

    [SetUp]
    public void CopyTheShippedConfig()
    {
        _folder = Directory.CreateTempSubdirectory("validate-config-").FullName;
        foreach (var file in Directory.GetFiles(RepoPaths.Config, "*.json"))
        {
            File.Copy(file, Path.Combine(_folder, Path.GetFileName(file)));
        }
    }

    [TearDown]
    public void Remove() => Directory.Delete(_folder, recursive: true);

    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ValidateConfigCommand.RunAsync(["validate-config", .. args], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private void Edit(string file, Action<JsonObject> edit)
    {
        var path = Path.Combine(_folder, file);
        var json = GatewayHost.ReadJson(path);
        edit(json);
        GatewayHost.WriteJson(path, json);
    }

    [Test]
    public async Task TheRepositorysConfig_IsValid()
    {
        var (exit, output, error) = await RunAsync(RepoPaths.Config);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("valid"));
        Assert.That(error, Is.Empty);
    }

    [Test]
    public async Task SyntaxError_UnknownProviderInAClient_AndARouteWithoutACluster_AreAllNamed()
    {
        File.WriteAllText(Path.Combine(_folder, "teams.json"), """{"Gateway": {"Clients": {"team-b": {"KeySha256": """);
        Edit("gateway.json", c => c["Gateway"]!["Clients"] = JsonNode.Parse(
            """{"team-a": {"KeySha256": "0000000000000000000000000000000000000000000000000000000000000000", "Providers": ["openia"]}}"""));
        Edit("reverseproxy.json", c => c["ReverseProxy"]!["Routes"]!["orphan"] = JsonNode.Parse("""{"Match": {"Path": "/api/ai/orphan/{**rest}"}}"""));

        var (exit, output, error) = await RunAsync(_folder);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Is.Empty);
        Assert.That(error, Does.Contain("3 errors"));
        Assert.That(error, Does.Contain("teams.json").And.Contain("not valid JSON"), "the syntax error, with its file");
        Assert.That(error, Does.Contain("team-a").And.Contain("openia"), "the client's unknown provider");
        Assert.That(error, Does.Contain("ReverseProxy:Routes:orphan has no ClusterId"), "the route without a cluster");
    }

    [Test]
    public async Task WithValidSettings_TheGatewaysOwnRouteAndClusterChecksRun()
    {
        // A cluster bound to no provider is refused by the gateway's transform providers, which need valid settings.
        Edit("reverseproxy.json", c => c["ReverseProxy"]!["Clusters"]!["stray"] = JsonNode.Parse("""{"Destinations": {"d": {"Address": "http://127.0.0.1:9/"}}}"""));
        Edit("reverseproxy.json", c => c["ReverseProxy"]!["Routes"]!["lost"] = JsonNode.Parse("""{"ClusterId": "nowhere", "Match": {"Path": "/api/ai/lost/{**rest}"}}"""));

        var (exit, _, error) = await RunAsync(_folder);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("2 errors"));
        Assert.That(error, Does.Contain("ReverseProxy:Clusters:stray").And.Contain("not bound to a provider"));
        Assert.That(error, Does.Contain("ReverseProxy:Routes:lost names cluster 'nowhere'"));
    }

    [Test]
    public async Task ARouteWithAnAuthorizationPolicy_IsRefused()
    {
        // Callers are authenticated by client key; the gateway runs no ASP.NET Core authorization, so a route's policy
        // would fail every call on it (YARP marks its endpoint, and nothing would check the mark).
        Edit("reverseproxy.json", c => c["ReverseProxy"]!["Routes"]!["openai"]!["AuthorizationPolicy"] = "default");

        var (exit, _, error) = await RunAsync(_folder);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("ReverseProxy:Routes:openai sets AuthorizationPolicy 'default'").And.Contain("client key"));
    }

    [Test]
    public async Task BadPromptLogging_EveryErrorIsListed()
    {
        Edit("gateway.json", c => c["Gateway"]!["PromptLogging"] = JsonNode.Parse("""
            {
              "Mode": "verbose",
              "MaxLength": 0,
              "Routes": { "openai": "everything" },
              "Clients": { "team-z": "sanitized" },
              "Patterns": { "BROKEN": "(unclosed", "EVERYWHERE": ".*" }
            }
            """));

        var (exit, _, error) = await RunAsync(_folder);

        Assert.That(exit, Is.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(error, Does.Contain("Gateway:PromptLogging:Mode must be one of 'off', 'metadata', 'sanitized' (was 'verbose')"));
            Assert.That(error, Does.Contain("Gateway:PromptLogging:MaxLength"));
            Assert.That(error, Does.Contain("Gateway:PromptLogging:Routes:openai must be one of"));
            Assert.That(error, Does.Contain("Gateway:PromptLogging:Clients:team-z names no configured client"));
            Assert.That(error, Does.Contain("Gateway:PromptLogging:Patterns:BROKEN: the pattern is not a valid regular expression"));
            Assert.That(error, Does.Contain("Gateway:PromptLogging:Patterns:EVERYWHERE: the pattern matches the empty string"));
        });
    }

    [Test]
    public async Task NoSuchFolder_IsAUsageError()
    {
        var (exit, _, error) = await RunAsync(Path.Combine(_folder, "absent"));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("does not exist"));
    }
}
