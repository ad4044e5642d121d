using Microsoft.Extensions.Configuration;
using Gateway.Auth;

namespace Gateway.Tests.Auth;

public sealed class KeysCommandTests
{
    [Test]
    public void Run_NewKey_PrintsKeyOnceAndTheHashToConfigure()
    {
        var output = new StringWriter();
        var exit = KeysCommand.Run(["keys", "new", "--client", "team-a"], output, TextWriter.Null);

        Assert.That(exit, Is.Zero);
        var text = output.ToString();
        var key = text.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(ClientKeyHasher.KeyPrefix, StringComparison.Ordinal));
        Assert.That(key, Has.Length.GreaterThan(40));
        Assert.That(text, Does.Contain($"Gateway__Clients__team-a__KeySha256={ClientKeyHasher.HashHex(key)}"));
        Assert.That(text.Split(key).Length - 1, Is.EqualTo(1), "the key is printed once");
    }

    [TestCase("team-a")]
    [TestCase("billing.reports")]
    public async Task Run_EveryPrintedForm_WorksAsPrinted(string client)
    {
        var output = new StringWriter();
        KeysCommand.Run(["keys", "new", "--client", client], output, TextWriter.Null);
        var lines = output.ToString().Split('\n').Select(l => l.Trim()).ToList();
        var key = lines.Single(l => l.StartsWith(ClientKeyHasher.KeyPrefix, StringComparison.Ordinal));
        var setting = $"Gateway:Clients:{client}:KeySha256";
        var hash = ClientKeyHasher.HashHex(key);

        // JSON: a file of config/ as printed.
        var json = lines.Single(l => l.StartsWith('{'));
        var fromJson = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build();
        Assert.That(fromJson[setting], Is.EqualTo(hash));

        // Command line: the arguments after "--", as the gateway's configuration reads them.
        var commandLine = lines.Single(l => l.StartsWith("dotnet run", StringComparison.Ordinal));
        var arguments = commandLine[(commandLine.IndexOf(" -- ", StringComparison.Ordinal) + 4)..].Split(' ');
        var fromArguments = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddCommandLine(arguments).Build();
        Assert.That(fromArguments[setting], Is.EqualTo(hash));

        // Environment: run the printed line in bash (the program swapped for one that prints what it was given).
        var envLine = lines.Single(l => l.StartsWith("env '", StringComparison.Ordinal)).Replace("dotnet run --project gateway", "printenv", StringComparison.Ordinal);
        var start = new System.Diagnostics.ProcessStartInfo("bash", ["-c", envLine]) { RedirectStandardOutput = true };
        using var bash = System.Diagnostics.Process.Start(start)!;
        var environment = await bash.StandardOutput.ReadToEndAsync();
        await bash.WaitForExitAsync();
        var variable = environment.Split('\n').Single(l => l.StartsWith("Gateway__Clients__", StringComparison.Ordinal));
        var (name, value) = (variable[..variable.IndexOf('=')], variable[(variable.IndexOf('=') + 1)..]);
        var fromEnvironment = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection([new(name.Replace("__", ":", StringComparison.Ordinal), value)]).Build();
        Assert.That(fromEnvironment[setting], Is.EqualTo(hash), "the variable reaches the program, named as the environment provider maps it");
    }

    [Test]
    public void Run_TwoKeys_AreDifferent()
    {
        var first = new StringWriter();
        var second = new StringWriter();
        KeysCommand.Run(["keys", "new", "--client", "a"], first, TextWriter.Null);
        KeysCommand.Run(["keys", "new", "--client", "a"], second, TextWriter.Null);
        Assert.That(first.ToString(), Is.Not.EqualTo(second.ToString()));
    }

    [Test]
    public void Rotate_AClientWhoseKeysComeFromASecret_PrintsTheLineToAddThere_AndKeepsItsConfiguredKeys()
    {
        var folder = Directory.CreateTempSubdirectory("rotate-keysfrom-").FullName;
        var configured = ClientKeyHasher.HashHex(ClientKeyHasher.NewKey());
        File.WriteAllText(Path.Combine(folder, "clients.json"), new System.Text.Json.Nodes.JsonObject
        {
            ["Gateway"] = new System.Text.Json.Nodes.JsonObject
            {
                ["Clients"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["team-k"] = new System.Text.Json.Nodes.JsonObject { ["KeySha256"] = configured, ["KeysFrom"] = "file:/var/run/secrets/ai-gateway/client-keys/team-k" },
                },
            },
        }.ToJsonString());
        var output = new StringWriter();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        Assert.That(KeysCommand.Run(["keys", "rotate", "--client", "team-k", "--config", folder, "--label", "k8s-2026-12"], output, TextWriter.Null, time), Is.Zero);
        Directory.Delete(folder, recursive: true);

        var lines = output.ToString().Split('\n').Select(l => l.Trim()).ToList();
        var key = lines.Single(l => l.StartsWith(ClientKeyHasher.KeyPrefix, StringComparison.Ordinal));
        Assert.That(lines, Has.One.EqualTo(
            $"The client's keys in file:/var/run/secrets/ai-gateway/client-keys/team-k are not shown here: add a line '{ClientKeyHasher.HashHex(key)} label=k8s-2026-12' there and give the old lines notAfter=2026-12-05T09:00:00Z."));
        var keys = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(lines.Single(l => l.StartsWith('{'))))).Build()
            .GetSection("Gateway:Clients:team-k:Keys").Get<ClientKeyOptions[]>()!;
        Assert.That(keys.Select(k => (k.Sha256, k.NotAfter, k.Label)), Is.EqualTo(new[]
        {
            (configured, (DateTimeOffset?)new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero), "sha256:" + configured[..8]),
            (ClientKeyHasher.HashHex(key), null, "k8s-2026-12"),
        }), "the configured key is kept for the default 7-day overlap, the new one added");
    }

    [TestCase("keys")]
    [TestCase("keys new")]
    [TestCase("keys new --client")]
    [TestCase("keys new --client bad/id")]
    [TestCase("keys list --client a")]
    public void Run_BadArguments_PrintsUsageAndFails(string args)
    {
        var error = new StringWriter();
        Assert.That(KeysCommand.Run(args.Split(' '), TextWriter.Null, error), Is.EqualTo(2));
        Assert.That(error.ToString(), Does.StartWith("usage: keys new --client"));
    }

    [Test]
    public void HashHex_IsLowercaseSha256()
        => Assert.That(ClientKeyHasher.HashHex("abc"), Is.EqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}
