using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Http;

/// <summary>
/// The one way the gateway reads a caller's body: up to a bound, saying whether that was all of it, and rewound
/// afterwards when the body is buffered, so the forwarder still sends it whole. A body already held in memory
/// (<see cref="PooledRequestBody"/>) is read in place; any other is copied into a pooled buffer (returned on dispose).
/// The body's size limit itself is enforced once, before anything reads it (the host's body-limit step).
/// </summary>
public sealed class BufferedBody : IDisposable
{
    private const int UnknownLengthStart = 16 * 1024;

    private PooledBuffer? _owned;
    private ReadOnlyMemory<byte> _memory;
    private bool _disposed;

    private BufferedBody(PooledBuffer owned, bool whole)
        : this(owned.WrittenMemory, whole)
    {
        _owned = owned;
    }

    private BufferedBody(ReadOnlyMemory<byte> memory, bool whole)
    {
        _memory = memory;
        Length = memory.Length;
        Whole = whole;
    }

    /// <summary>Bytes read.</summary>
    public int Length { get; }

    /// <summary>Whether the bytes read are the whole body (false: it goes on past the bound).</summary>
    public bool Whole { get; }

    public ReadOnlyMemory<byte> Memory => _disposed ? throw new ObjectDisposedException(nameof(BufferedBody)) : _memory;

    public ReadOnlySpan<byte> Span => Memory.Span;

    /// <summary>Reads the body from its start, at most <paramref name="maxBytes"/> of it.</summary>
    public static async ValueTask<BufferedBody> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        var body = request.Body;
        if (body is PooledRequestBody { CanRead: true } held)
        {
            var all = held.Memory;
            return all.Length <= maxBytes ? new BufferedBody(all, whole: true) : new BufferedBody(all[..maxBytes], whole: false);
        }

        if (body.CanSeek)
        {
            body.Position = 0;
        }

        var expected = request.ContentLength ?? (body.CanSeek ? body.Length : UnknownLengthStart);
        var buffer = new PooledBuffer((int)Math.Clamp(expected, 1, Math.Max(maxBytes, 1)));
        try
        {
            while (buffer.Length < maxBytes)
            {
                var room = buffer.GetMemory();
                var chunk = await body.ReadAsync(room[..Math.Min(room.Length, maxBytes - buffer.Length)], cancellationToken);
                if (chunk == 0)
                {
                    return new BufferedBody(buffer, whole: true);
                }

                buffer.Advance(chunk);
            }

            // Filled to the bound: whole only if nothing follows.
            var probe = new byte[1];
            var whole = request.ContentLength == buffer.Length || await body.ReadAsync(probe, cancellationToken) == 0;
            return new BufferedBody(buffer, whole);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        finally
        {
            if (body.CanSeek)
            {
                body.Position = 0;
            }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _memory = default;
        Interlocked.Exchange(ref _owned, null)?.Dispose();
    }
}
