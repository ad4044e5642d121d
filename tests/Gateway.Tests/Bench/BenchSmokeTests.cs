using System.Diagnostics;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Bench;

/// <summary>
/// One short round of <c>bench/run.sh</c> (SMOKE=1, with SOAK=1): the benchmark still builds, starts every process, drives
/// every scenario — the open slow streams and the noisy neighbour too — and writes its report with a verdict per target. The figures of a 1 s round mean nothing and are not checked; that every call was
/// answered 200 is.
/// </summary>
[NonParallelizable]
public sealed class BenchSmokeTests
{
    private static readonly string[] Scenarios =
    [
        "bare YARP (baseline)",
        "gateway passthrough, client key, no limits",
        "gateway passthrough, in-process limiter",
        "gateway passthrough, client key, resilience pipeline off",
        "gateway passthrough, Redis limiter (+ redis-server CPU)",
        "gateway normalized /v1/ai/generate, in-process limiter",
        "gateway normalized /v1/ai/generate streamed, in-process limiter",
        "gateway OpenAI-compatible /v1/chat/completions, in-process limiter",
    ];

    private static readonly string[] Streamed =
    [
        "bare YARP, streamed (baseline)",
        "gateway passthrough streamed, in-process limiter",
        "gateway normalized streamed, in-process limiter",
    ];

    [Test]
    public async Task SmokeRound_DrivesEveryScenario_AndReports()
    {
        if (Environment.ProcessorCount < 2)
        {
            Assert.Ignore("bench/run.sh pins the load and the servers to two different CPUs; this machine has one.");
        }

        var report = Path.Combine(Path.GetTempPath(), $"bench-smoke-{Guid.NewGuid():N}.md");
        var start = new ProcessStartInfo("bash", ["bench/run.sh"])
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["SMOKE"] = "1", ["SOAK"] = "1", ["REPORT"] = report },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        var log = await output + await error;
        Assert.That(process.ExitCode, Is.Zero, log);

        var lines = File.ReadAllLines(report);
        var rows = lines.Where(l => l.StartsWith("| ", StringComparison.Ordinal)).Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();
        File.Delete(report);
        foreach (var scenario in Scenarios)
        {
            var row = rows.SingleOrDefault(r => r[1] == scenario);
            Assert.That(row, Is.Not.Null, $"a row for {scenario}\n{log}");
            Assert.That(double.Parse(row![2], System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0), $"{scenario}: requests answered");
            Assert.That(row[^2], Is.EqualTo("0"), $"{scenario}: every answer a 2xx");
        }

        foreach (var scenario in Streamed)
        {
            var row = rows.SingleOrDefault(r => r[1] == scenario);
            Assert.That(row, Is.Not.Null, $"a time-to-first-byte row for {scenario}\n{log}");
            Assert.That(row![^2], Is.EqualTo("0"), $"{scenario}: every streamed call answered 200");
        }

        var replay = lines.SkipWhile(l => !l.StartsWith("| callers in flight |", StringComparison.Ordinal)).Skip(2).TakeWhile(l => l.StartsWith("| ", StringComparison.Ordinal))
            .Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();
        Assert.That(replay.Select(r => r[1]), Is.EqualTo(new[] { "1", "8" }), $"the limiter script's cost by callers in flight\n{log}");
        Assert.That(replay.Select(r => double.Parse(r[3], System.Globalization.CultureInfo.InvariantCulture)), Is.All.GreaterThan(0), "redis-server's CPU per request");
        Assert.That(lines.Any(l => l.StartsWith("20 connections open, 20 still open", StringComparison.Ordinal)), $"every slow stream held open\n{log}");
        var neighbour = rows.Where(r => r.Length > 3 && r[2] is "alone" or "hammered").ToList();
        Assert.That(neighbour.Select(r => r[2]), Is.EquivalentTo(new[] { "alone", "hammered" }), $"the neighbour alone and beside the hammer\n{log}");
        Assert.That(neighbour.Select(r => r[4]), Is.All.EqualTo("0"), "the neighbour's calls all answered 200");
        Assert.That(neighbour.Single(r => r[2] == "hammered")[5], Does.Match(@"^[1-9][0-9]* of [1-9][0-9]*$"), "the hammer was refused by the Redis limiter");
        for (var target = 1; target <= 7; target++)
        {
            Assert.That(lines.Any(l => l.StartsWith($"{target}. ", StringComparison.Ordinal) && (l.Contains("met", StringComparison.Ordinal))), $"a verdict on target {target}\n{log}");
        }
    }
}
