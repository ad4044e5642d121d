using System.Buffers;

namespace Gateway.Transforms.Http;

/// <summary>
/// A growable byte buffer over arrays from the shared pool, for bodies read whole on the hot path (a vendor's answer, a
/// copy of one for its usage): sized up front when the length is known, doubled when not, given back on dispose.
/// </summary>
public sealed class PooledBuffer : IDisposable
{
    private byte[]? _array;

    public PooledBuffer(int capacity)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 1));
    }

    /// <summary>Bytes written.</summary>
    public int Length { get; private set; }

    public ReadOnlyMemory<byte> WrittenMemory => Array.AsMemory(0, Length);

    public ReadOnlySpan<byte> WrittenSpan => Array.AsSpan(0, Length);

    private byte[] Array => _array ?? throw new ObjectDisposedException(nameof(PooledBuffer));

    /// <summary>Room for at least <paramref name="sizeHint"/> (at least one) more bytes; then <see cref="Advance"/>.</summary>
    public Memory<byte> GetMemory(int sizeHint = 1)
    {
        Ensure(Length + Math.Max(sizeHint, 1));
        return Array.AsMemory(Length);
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Length + count, Array.Length, nameof(count));
        Length += count;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(Length + bytes.Length);
        bytes.CopyTo(Array.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Keeps the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length) => Length = Math.Clamp(length, 0, Length);

    private void Ensure(int capacity)
    {
        var array = Array;
        if (capacity <= array.Length)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(capacity, (long)array.Length * 2), System.Array.MaxLength));
        array.AsSpan(0, Length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(array);
        _array = larger;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _array, null) is { } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
