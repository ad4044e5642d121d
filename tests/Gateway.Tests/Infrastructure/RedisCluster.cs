using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster on loopback — three masters with a replica each — created with <c>redis-cli --cluster create</c>
/// by the test itself, in a temp folder it removes afterwards.
/// </summary>
public sealed class RedisCluster : IDisposable
{
    private readonly List<Process> _nodes = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("redis-cluster-").FullName;

    public IReadOnlyList<int> Ports { get; private set; } = [];

    /// <summary>A StackExchange.Redis configuration naming the three seed masters.</summary>
    public string ConnectionString => string.Join(',', Ports.Take(3).Select(p => $"127.0.0.1:{p}"));

    public static async Task<RedisCluster> StartAsync()
    {
        var cli = ExecutableOnPath.Find("redis-cli");
        if (RedisServer.Executable is null || cli is null)
        {
            Assert.Fail("redis-server and redis-cli must be on the PATH: run tests/run.sh (it installs them).");
        }

        var cluster = new RedisCluster();
        try
        {
            cluster.Ports = [.. Enumerable.Range(0, 6).Select(_ => ServerPorts.Next())];
            foreach (var port in cluster.Ports)
            {
                var node = Path.Combine(cluster._folder, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Directory.CreateDirectory(node);
                cluster._nodes.Add(Process.Start(new ProcessStartInfo(RedisServer.Executable!,
                    $"--port {port} --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 --save \"\" --appendonly no --dir {node}")
                {
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                })!);
                cluster._nodes[^1].OutputDataReceived += (_, _) => { };
                cluster._nodes[^1].BeginOutputReadLine();
            }

            foreach (var port in cluster.Ports)
            {
                await WaitForPortAsync(port);
            }

            var create = Process.Start(new ProcessStartInfo(cli!, $"--cluster create {string.Join(' ', cluster.Ports.Select(p => $"127.0.0.1:{p}"))} --cluster-replicas 1 --cluster-yes")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var output = await create.StandardOutput.ReadToEndAsync() + await create.StandardError.ReadToEndAsync();
            await create.WaitForExitAsync();
            Assert.That(create.ExitCode, Is.Zero, output);

            // Every node named, so each can be asked however far the discovery has got.
            using var connection = await ConnectionMultiplexer.ConnectAsync(string.Join(',', cluster.Ports.Select(p => $"127.0.0.1:{p}")) + ",allowAdmin=true");
            // Set-up, not a promise under test: on this 2-core VM in a slow spell, gossip and six full syncs have taken over
            // 30 s (one CI run), so the cluster gets 90 s; what was still missing is said if it never comes up.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            string? waitingFor = null;
            // Ready when every node says the cluster is ok and sees three replicas, each attached to its master.
            while (cluster.Ports.Any(p =>
            {
                var server = connection.GetServer("127.0.0.1", p);
                var nodes = server.Execute("CLUSTER", "NODES").ToString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                waitingFor = !server.Execute("CLUSTER", "INFO").ToString()!.Contains("cluster_state:ok", StringComparison.Ordinal) ? $"node {p}: cluster_state not ok"
                    : nodes.Count(n => n.Split(' ')[2].Contains("slave", StringComparison.Ordinal) && n.Split(' ')[3] != "-") != 3 ? $"node {p}: fewer than 3 replicas seen"
                    : server.Execute("ROLE")[0].ToString() == "slave" && server.Execute("ROLE")[3].ToString() != "connected" ? $"node {p}: replica not connected to its master"
                    : null;
                return waitingFor is not null;
            }))
            {
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the cluster reaches cluster_state:ok with every replica attached (still waiting: {waitingFor})");
                await Task.Delay(100);
            }

        }
        catch
        {
            // A cluster that never came up leaves no redis-server behind.
            cluster.Dispose();
            throw;
        }

        return cluster;
    }

    public ConnectionMultiplexer Connect() => ConnectionMultiplexer.Connect(ConnectionString + ",allowAdmin=true");

    private static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            if (!node.HasExited)
            {
                node.Kill();
                node.WaitForExit();
            }

            node.Dispose();
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
