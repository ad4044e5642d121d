using System.Buffers;

namespace Gateway.Transforms.Http;

/// <summary>
/// A caller's body read whole into a pooled array of its declared length, standing in for the request's body stream:
/// seekable, so it can be read for the model and sent again after a vendor 401, without a buffering stream or a copy.
/// The array goes back to the pool on dispose (the host registers that with the response, after the forwarder is done).
/// </summary>
public sealed class PooledRequestBody : Stream
{
    private byte[]? _array;
    private readonly int _length;
    private int _position;

    private PooledRequestBody(byte[] array, int length)
    {
        _array = array;
        _length = length;
    }

    /// <summary>Reads <paramref name="length"/> bytes (a declared Content-Length) from <paramref name="source"/>; fewer when it ends first.</summary>
    public static async ValueTask<PooledRequestBody> ReadAsync(Stream source, int length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var array = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var read = 0;
            while (read < length)
            {
                var chunk = await source.ReadAsync(array.AsMemory(read, length - read), cancellationToken);
                if (chunk == 0)
                {
                    break;
                }

                read += chunk;
            }

            return new PooledRequestBody(array, read);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(array);
            throw;
        }
    }

    /// <summary>The whole body, whatever the position.</summary>
    public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, _length);

    private byte[] Array => _array ?? throw new ObjectDisposedException(nameof(PooledRequestBody));

    public override bool CanRead => _array is not null;

    public override bool CanSeek => _array is not null;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = (int)Math.Min(value, _length);
        }
    }

    public override int Read(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, _length - _position);
        Array.AsSpan(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        var start = _position;
        _position = _length;
        await destination.WriteAsync(Array.AsMemory(start, _length - start), cancellationToken);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _array, null) is { } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }

        base.Dispose(disposing);
    }
}
