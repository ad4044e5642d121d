using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Loopback ports for servers the tests start as their own processes (redis-server, a Redis Cluster's nodes). A port
/// asked of the kernel (bind to 0, then close) comes from the ephemeral range, where, before the process binds it, an
/// outgoing connection or another fixture doing the same may take it — once a cluster node found a plain redis-server
/// of another test on its port ("is not configured as a cluster node"). These come from below the ephemeral range
/// (32768–60999 here), where no outgoing connection takes a port, each handed out once per test run, and only when it
/// (and its cluster bus port, +10000, still below the range) can be bound now.
/// </summary>
public static class ServerPorts
{
    private const int First = 12000;
    private const int Count = 10000;

    // Started at a place that differs between runs, so a run does not meet the previous one's ports in TIME_WAIT.
    private static int _next = Environment.ProcessId % Count;

    /// <summary>A port no other fixture of this run was given, free now, whose cluster bus port is free too.</summary>
    public static int Next()
    {
        for (var tried = 0; tried < Count; tried++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref _next) % Count);
            if (Free(port) && Free(port + 10000))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No free loopback port in {First}–{First + Count - 1}.");
    }

    private static bool Free(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
