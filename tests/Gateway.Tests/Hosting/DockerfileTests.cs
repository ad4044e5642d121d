using System.Text.RegularExpressions;
using System.Xml.Linq;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The Dockerfile cannot be built on these machines (no container engine), so what can drift is checked here: every path
/// it copies exists, it publishes the gateway's project, its entry point is the gateway's assembly, its SDK is the one
/// global.json pins, and the image's port, user and config folder are the ones the chart uses.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly string Dockerfile = File.ReadAllText(Path.Combine(RepoPaths.Root, "Dockerfile"));

    private static string ChartFile(string relative) => File.ReadAllText(Path.Combine(RepoPaths.Root, "charts", "ai-gateway", relative));

    [Test]
    public void EveryPathItCopiesFromTheRepository_Exists()
    {
        var sources = CopyPattern().Matches(Dockerfile).SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]).ToList();

        Assert.That(sources, Is.Not.Empty);
        foreach (var source in sources)
        {
            var path = Path.Combine(RepoPaths.Root, source.TrimEnd('/'));
            Assert.That(File.Exists(path) || Directory.Exists(path), Is.True, $"COPY {source}: not in the repository");
        }
    }

    [Test]
    public void ItPublishesTheGatewayProject_AndItsEntryPointIsTheGatewaysAssembly()
    {
        var project = XDocument.Load(Path.Combine(RepoPaths.Root, "gateway", "Gateway.csproj"));
        var assembly = project.Descendants("AssemblyName").Single().Value;

        Assert.That(Dockerfile, Does.Contain("dotnet publish gateway/Gateway.csproj"));
        Assert.That(Dockerfile, Does.Contain($"ENTRYPOINT [\"dotnet\", \"{assembly}.dll\"]"));
        // The transforms library the gateway references is copied before the restore.
        foreach (var reference in project.Descendants("ProjectReference").Select(r => r.Attribute("Include")!.Value.Replace('\\', '/').Replace("../", "")))
        {
            Assert.That(Dockerfile, Does.Contain($"COPY {reference} "), reference);
        }
    }

    [Test]
    public void ItsSdkIsTheMajorVersionGlobalJsonPins()
    {
        var pinned = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "global.json"))).RootElement.GetProperty("sdk").GetProperty("version").GetString()!;
        var major = pinned.Split('.')[0] + ".0";

        Assert.That(Dockerfile, Does.Contain($"dotnet/sdk:{major} AS build"));
        Assert.That(Dockerfile, Does.Contain($"dotnet/aspnet:{major}-"));
    }

    [Test]
    public void PortUserAndConfigFolder_AreTheOnesTheChartUses()
    {
        var values = ChartFile("values.yaml");
        var deployment = ChartFile("templates/deployment.yaml");
        var port = Regex.Match(values, @"(?m)^containerPort: (\d+)").Groups[1].Value;

        Assert.That(Dockerfile, Does.Contain($"EXPOSE {port}").And.Contain($"ASPNETCORE_URLS=http://+:{port}"));
        Assert.That(Dockerfile, Does.Contain("USER 1654"));
        Assert.That(deployment, Does.Contain("runAsUser: 1654"));
        Assert.That(Dockerfile, Does.Contain("Gateway__ConfigDirectory=/app/config"));
        Assert.That(deployment, Does.Contain("mountPath: /app/config"));
        Assert.That(Dockerfile, Does.Not.Contain("HEALTHCHECK "), "Kubernetes probes the health endpoints");
    }

    [GeneratedRegex(@"(?m)^COPY (?!--from)(.+)$")]
    private static partial Regex CopyPattern();
}
