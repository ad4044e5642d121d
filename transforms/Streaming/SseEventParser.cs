using System.Buffers;
using System.Text;

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
    private readonly ArrayBufferWriter<byte> _data = new(1024);
    private string? _eventName;
    private bool _hasData;

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

            Line(line, onEvent);
            _line.ResetWrittenCount();
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_line.WrittenCount + bytes.Length > SseReader.MaxEventBytes)
        {
            Healthy = false;
            return;
        }

        _line.Write(bytes);
    }

    private void Line(ReadOnlySpan<byte> line, SseEventHandler onEvent)
    {
        if (line.IsEmpty)
        {
            if (_hasData || _eventName is not null)
            {
                onEvent(_eventName, _data.WrittenSpan);
            }

            _eventName = null;
            _hasData = false;
            _data.ResetWrittenCount();
            return;
        }

        if (line[0] == (byte)':')
        {
            return;
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
            _eventName = Encoding.UTF8.GetString(value);
        }
    }
}
