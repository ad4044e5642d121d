using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real redis-server on a free loopback port, started by the tests themselves (no persistence), which tests can
/// kill and start again on the same port.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private Process? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>redis-server found on the PATH, or null.</summary>
    public static string? Executable { get; } = ExecutableOnPath.Find("redis-server");

    public static RedisServer Start()
    {
        if (Executable is null)
        {
            Assert.Fail("redis-server is not on the PATH: run tests/run.sh (it installs it) or apt-get install redis-server.");
        }

        var server = new RedisServer(ServerPorts.Next());
        server.Launch();
        return server;
    }

    public void Launch()
    {
        _process = Process.Start(new ProcessStartInfo(Executable!, $"--port {Port} --bind 127.0.0.1 --save \"\" --appendonly no --enable-debug-command local")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited at start on port {Port} (exit code {_process.ExitCode}).");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(20);
            }
        }

        throw new InvalidOperationException($"redis-server did not start on port {Port}.");
    }

    /// <summary>Kills the server at once (no shutdown), as a crash would.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public ConnectionMultiplexer Connect() => ConnectionMultiplexer.Connect(ConnectionString + ",allowAdmin=true");

    public void Dispose() => Kill();
}
