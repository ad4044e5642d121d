using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Reads the parts of an OTLP/HTTP protobuf export request (opentelemetry-proto: ExportTraceServiceRequest,
/// ExportMetricsServiceRequest) the tests check — resource attributes, span names and attributes, metric names — with a
/// plain protobuf wire-format reader, field numbers from the proto files.
/// </summary>
public static class OtlpPayload
{
    /// <summary>Resource attributes (string values) of every resource_spans / resource_metrics entry.</summary>
    public static List<Dictionary<string, string>> Resources(byte[] request)
        => [.. Fields(request).Where(f => f.Number == 1).Select(r => Attributes(Fields(r.Bytes).Where(f => f.Number == 1).Select(f => f.Bytes).FirstOrDefault() ?? [], 1))];

    /// <summary>Spans: name, trace id, span id, parent span id and string/int attributes.</summary>
    public static List<Span> Spans(byte[] request)
    {
        var spans = new List<Span>();
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans.Bytes).Where(f => f.Number == 2))
            {
                foreach (var span in Fields(scopeSpans.Bytes).Where(f => f.Number == 2))
                {
                    var fields = Fields(span.Bytes).ToList();
                    string Hex(int number) => Convert.ToHexStringLower(fields.FirstOrDefault(f => f.Number == number).Bytes ?? []);
                    spans.Add(new Span(Encoding.UTF8.GetString(fields.First(f => f.Number == 5).Bytes!), Hex(1), Hex(2), Hex(4), Attributes(span.Bytes, 9)));
                }
            }
        }

        return spans;
    }

    /// <summary>Names of the metrics in an ExportMetricsServiceRequest.</summary>
    public static List<string> MetricNames(byte[] request)
        => [.. from resourceMetrics in Fields(request).Where(f => f.Number == 1)
               from scopeMetrics in Fields(resourceMetrics.Bytes).Where(f => f.Number == 2)
               from metric in Fields(scopeMetrics.Bytes).Where(f => f.Number == 2)
               select Encoding.UTF8.GetString(Fields(metric.Bytes).First(f => f.Number == 1).Bytes!)];

    public sealed record Span(string Name, string TraceId, string SpanId, string ParentSpanId, Dictionary<string, string> Attributes);

    // KeyValue { key = 1; AnyValue value = 2 }, AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4; array_value = 5 }.
    private static Dictionary<string, string> Attributes(byte[] message, int field)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyValue in Fields(message).Where(f => f.Number == field))
        {
            var parts = Fields(keyValue.Bytes).ToList();
            var key = Encoding.UTF8.GetString(parts.First(p => p.Number == 1).Bytes!);
            var value = parts.FirstOrDefault(p => p.Number == 2).Bytes is { } any ? AnyValue(any) : "";
            attributes[key] = value;
        }

        return attributes;
    }

    private static string AnyValue(byte[] any)
    {
        var field = Fields(any).FirstOrDefault();
        return field.Number switch
        {
            1 => Encoding.UTF8.GetString(field.Bytes!),
            2 or 3 => field.Varint.ToString(System.Globalization.CultureInfo.InvariantCulture),
            5 => string.Join(",", Fields(field.Bytes!).Where(f => f.Number == 1).Select(v => AnyValue(v.Bytes!))),
            _ => "",
        };
    }

    private readonly record struct Field(int Number, byte[] Bytes, long Varint);

    // Protobuf wire format: a varint key (field number << 3 | wire type), then a varint, 8 bytes, a length-delimited run or 4 bytes.
    private static IEnumerable<Field> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message, ref position);
            var number = (int)(key >> 3);
            switch (key & 7)
            {
                case 0:
                    yield return new Field(number, [], (long)ReadVarint(message, ref position));
                    break;
                case 1:
                    position += 8;
                    yield return new Field(number, [], 0);
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    yield return new Field(number, message[position..(position + length)], 0);
                    position += length;
                    break;
                case 5:
                    position += 4;
                    yield return new Field(number, [], 0);
                    break;
                default:
                    throw new InvalidDataException($"wire type {key & 7} at {position}");
            }
        }
    }

    private static ulong ReadVarint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
