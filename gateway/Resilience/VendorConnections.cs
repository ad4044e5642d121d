using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Gateway.Resilience;

/// <summary>
/// The open connections to each vendor address (<c>gateway.vendor.connections</c>), counted when a connection is made
/// and when it closes: nothing on a call. HttpClient's own <c>http.client.open_connections</c> moves each connection
/// between idle and active on every call (four recordings of six tags a call), so it is not exported.
/// </summary>
internal sealed class VendorConnections : IDisposable
{
    public const string InstrumentName = "gateway.vendor.connections";

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<(string Host, int Port), StrongBox<long>> _open = new();

    public VendorConnections(IMeterFactory meters)
    {
        _meter = meters.Create(ResilienceMetrics.MeterName);
        _meter.CreateObservableUpDownCounter(InstrumentName, Observe, "{connection}",
            "Connections open to each vendor address (server.address, server.port), counted as they open and close.");
    }

    /// <summary>The connections open now to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public long Open(string host, int port) => _open.TryGetValue((host, port), out var count) ? Interlocked.Read(ref count.Value) : 0;

    /// <summary>
    /// Connects as SocketsHttpHandler does by default (TCP, no Nagle delay, every address of the name in turn), and
    /// counts the connection until its stream is disposed.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endPoint = context.DnsEndPoint;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var open = _open.GetOrAdd((endPoint.Host, endPoint.Port), static _ => new StrongBox<long>());
        Interlocked.Increment(ref open.Value);
        return new CountedStream(socket, open);
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> Observe()
    {
        foreach (var ((host, port), open) in _open)
        {
            yield return new Measurement<long>(Interlocked.Read(ref open.Value),
                new KeyValuePair<string, object?>("server.address", host), new KeyValuePair<string, object?>("server.port", port));
        }
    }

    /// <summary>The connection's own stream (no layer in between): only its disposal is counted.</summary>
    private sealed class CountedStream(Socket socket, StrongBox<long> open) : NetworkStream(socket, ownsSocket: true)
    {
        private int _closed;

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                Interlocked.Decrement(ref open.Value);
            }

            base.Dispose(disposing);
        }
    }
}
