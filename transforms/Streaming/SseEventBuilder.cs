using System.Buffers;
using System.Text;

namespace Gateway.Transforms.Streaming;

/// <summary>
/// Collects the fields of one SSE event line by line (<c>event:</c>, <c>data:</c>; comments ignored), for the pull
/// reader and the push parser alike.
/// </summary>
internal sealed class SseEventBuilder
{
    private readonly ArrayBufferWriter<byte> _data = new(4096);
    private readonly List<(byte[] Bytes, string Name)> _names = [];
    private bool _hasData;

    public string? EventName { get; private set; }

    public ReadOnlySpan<byte> Data => _data.WrittenSpan;

    /// <summary>True when a blank line now would dispatch an event.</summary>
    public bool HasEvent => _hasData || EventName is not null;

    public int Size => _data.WrittenCount;

    public void Reset()
    {
        EventName = null;
        _hasData = false;
        _data.ResetWrittenCount();
    }

    /// <summary>Takes one non-empty line (without its line ending).</summary>
    public void Field(ReadOnlySpan<byte> line)
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
}
