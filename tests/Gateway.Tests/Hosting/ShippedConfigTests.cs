using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The configuration as shipped in config/: every alias names a current model (as the vendors' own SDKs list them,
/// not deprecated) that the price table knows, so costs and budgets are never guessed for the aliases.
/// </summary>
public sealed partial class ShippedConfigTests
{
    private static readonly JsonElement Gateway = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Config, "gateway.json"))).RootElement.GetProperty("Gateway");

    private static IEnumerable<(string Alias, string Provider, string Model)> Aliases()
        => Gateway.GetProperty("Models").EnumerateObject().Select(a => (a.Name, a.Value.GetProperty("Provider").GetString()!, a.Value.GetProperty("Model").GetString()!));

    [Test]
    public void EveryAlias_PointsAtAModelThePriceTableHas()
    {
        var prices = Gateway.GetProperty("Prices").EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.That(Aliases().ToList(), Is.Not.Empty);
        foreach (var (alias, _, model) in Aliases())
        {
            Assert.That(prices, Does.Contain(model), $"alias '{alias}' points at {model}, which Gateway:Prices lacks");
        }
    }

    [Test]
    public void AnthropicAliases_AreModelsTheSdkLists_AndNoneIsDeprecated()
    {
        var known = QuotedNames(TypeUnion(File.ReadAllText(RepoPaths.NpmTool("@anthropic-ai/sdk/resources/messages/messages.d.ts")), "Model"));
        var deprecated = QuotedNames(File.ReadAllText(RepoPaths.NpmTool("@anthropic-ai/sdk/internal/data/deprecated-models.js")).Split("DEPRECATED_MODELS = {")[1].Split('}')[0]);
        Assert.That(deprecated, Does.Contain("claude-sonnet-4-5"), "the SDK's deprecation table was read");

        foreach (var (alias, _, model) in Aliases().Where(a => a.Provider == "anthropic"))
        {
            Assert.That(known, Does.Contain(model), $"alias '{alias}': {model} is not a model the Anthropic SDK lists");
            Assert.That(deprecated, Does.Not.Contain(model), $"alias '{alias}': {model} is deprecated (the SDK warns on every call)");
        }
    }

    [Test]
    public void OpenAiAliases_AreModelsTheSdkLists()
    {
        var known = QuotedNames(TypeUnion(File.ReadAllText(RepoPaths.NpmTool("openai/resources/shared.d.ts")), "ChatModel"));
        Assert.That(known, Has.Count.GreaterThan(10), "the SDK's model list was read");
        foreach (var (alias, _, model) in Aliases().Where(a => a.Provider == "openai"))
        {
            Assert.That(known, Does.Contain(model), $"alias '{alias}': {model} is not a model the OpenAI SDK lists");
        }
    }

    private static string TypeUnion(string declarations, string type)
        => declarations.Split($"export type {type} = ")[1].Split(';')[0];

    private static HashSet<string> QuotedNames(string text) => [.. Quoted().Matches(text).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("'([a-z0-9][a-z0-9.\\-]*)'")]
    private static partial Regex Quoted();
}
