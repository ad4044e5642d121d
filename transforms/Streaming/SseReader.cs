using System.Buffers;
using System.IO.Pipelines;
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
    private readonly SseEventBuilder _event = new();
    private bool _ended;

    public SseReader(Stream stream)
    {
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
    }

    /// <summary>The name of the current event (<c>event:</c> field), or null when it had none.</summary>
    public string? EventName => _event.EventName;

    /// <summary>The data of the current event.</summary>
    public ReadOnlySpan<byte> Data => _event.Data;

    /// <summary>Advances to the next event; false at the end of the stream.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        _event.Reset();
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
        while (buffer.PositionOf((byte)'\n') is { } end)
        {
            var slice = buffer.Slice(0, end);
            ReadOnlySpan<byte> line = slice.IsSingleSegment ? slice.FirstSpan : slice.ToArray();
            buffer = buffer.Slice(buffer.GetPosition(1, end));
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                if (_event.HasEvent)
                {
                    return true;
                }

                continue;
            }

            _event.Field(line);
            if (_event.Size > MaxEventBytes)
            {
                throw new VendorFormatException($"an SSE event is larger than {MaxEventBytes} bytes");
            }
        }

        return false;
    }

    public ValueTask DisposeAsync() => _reader.CompleteAsync();
}
