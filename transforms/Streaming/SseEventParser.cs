using System.Buffers;

namespace Gateway.Transforms.Streaming;

/// <summary>Receives one parsed SSE event.</summary>
public delegate void SseEventHandler(string? eventName, ReadOnlySpan<byte> data);

/// <summary>
/// Push-based SSE parsing for bytes that pass by (a passthrough response being copied to the caller): fed whatever
/// chunks arrive, it raises each complete event. Lines longer than <see cref="SseReader.MaxEventBytes"/> stop it.
/// </summary>
public sealed class SseEventParser
{
    private readonly ArrayBufferWriter<byte> _line = new(1024);
    private readonly SseEventBuilder _event = new();

    /// <summary>False once the input was found not to be SSE (an over-long line); nothing more is parsed.</summary>
    public bool Healthy { get; private set; } = true;

    public void Feed(ReadOnlySpan<byte> bytes, SseEventHandler onEvent)
    {
        while (Healthy && !bytes.IsEmpty)
        {
            var newline = bytes.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Append(bytes);
                return;
            }

            Append(bytes[..newline]);
            bytes = bytes[(newline + 1)..];
            var line = _line.WrittenSpan;
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (!line.IsEmpty)
            {
                _event.Field(line);
            }
            else if (_event.HasEvent)
            {
                onEvent(_event.EventName, _event.Data);
                _event.Reset();
            }

            _line.ResetWrittenCount();
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_line.WrittenCount + bytes.Length > SseReader.MaxEventBytes || _event.Size > SseReader.MaxEventBytes)
        {
            Healthy = false;
            return;
        }

        _line.Write(bytes);
    }
}
