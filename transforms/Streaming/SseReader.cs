using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Gateway.Transforms.Vendors;

namespace Gateway.Transforms.Streaming;

/// <summary>
/// Reads server-sent events from a vendor's response stream as they arrive: <c>event:</c> and <c>data:</c> fields,
/// dispatched on a blank line (multiple data lines joined with LF). An event cut off by the end of the stream is
/// dropped, as the SSE specification says.
/// </summary>
public sealed class SseReader : IAsyncDisposable
{
    /// <summary>Largest event accepted; a larger one means the vendor is not sending SSE.</summary>
    public const int MaxEventBytes = 1024 * 1024;

    private readonly PipeReader _reader;
    private readonly ArrayBufferWriter<byte> _data = new(4096);
    private readonly List<(byte[] Bytes, string Name)> _names = [];
    private bool _hasData;
    private bool _ended;

    public SseReader(Stream stream)
    {
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
    }

    /// <summary>The name of the current event (<c>event:</c> field), or null when it had none.</summary>
    public string? EventName { get; private set; }

    /// <summary>The data of the current event.</summary>
    public ReadOnlySpan<byte> Data => _data.WrittenSpan;

    /// <summary>Advances to the next event; false at the end of the stream.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        EventName = null;
        _data.ResetWrittenCount();
        _hasData = false;
        while (!_ended)
        {
            var result = await _reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (TryReadEvent(ref buffer))
            {
                // Only what was consumed counts as examined, so a next event already buffered is read without waiting.
                _reader.AdvanceTo(buffer.Start);
                return true;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);

            if (result.IsCompleted)
            {
                _ended = true;
            }
            else if (buffer.Length > MaxEventBytes)
            {
                throw new VendorFormatException($"an SSE line is longer than {MaxEventBytes} bytes");
            }
        }

        return false;
    }

    private bool TryReadEvent(ref ReadOnlySequence<byte> buffer)
    {
        while (TryReadLine(ref buffer, out var line))
        {
            if (line.IsEmpty)
            {
                if (_hasData || EventName is not null)
                {
                    return true;
                }

                continue;
            }

            Field(line);
            if (_data.WrittenCount > MaxEventBytes)
            {
                throw new VendorFormatException($"an SSE event is larger than {MaxEventBytes} bytes");
            }
        }

        return false;
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySpan<byte> line)
    {
        var end = buffer.PositionOf((byte)'\n');
        if (end is null)
        {
            line = default;
            return false;
        }

        var slice = buffer.Slice(0, end.Value);
        line = slice.IsSingleSegment ? slice.FirstSpan : slice.ToArray();
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
        return true;
    }

    private void Field(ReadOnlySpan<byte> line)
    {
        if (line[0] == (byte)':')
        {
            return; // comment (keep-alive)
        }

        var colon = line.IndexOf((byte)':');
        var name = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? default : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (name.SequenceEqual("data"u8))
        {
            if (_hasData)
            {
                _data.Write("\n"u8);
            }

            _data.Write(value);
            _hasData = true;
        }
        else if (name.SequenceEqual("event"u8))
        {
            EventName = Name(value);
        }
    }

    // Vendors repeat a handful of event names: reuse the string rather than allocate one per event.
    private string Name(ReadOnlySpan<byte> value)
    {
        foreach (var (bytes, known) in _names)
        {
            if (value.SequenceEqual(bytes))
            {
                return known;
            }
        }

        var name = Encoding.UTF8.GetString(value);
        if (_names.Count < 32)
        {
            _names.Add((value.ToArray(), name));
        }

        return name;
    }

    public ValueTask DisposeAsync() => _reader.CompleteAsync();
}
