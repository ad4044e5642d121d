using System.Text;
using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>Reads the gateway's internal SSE events (delta, usage, done, error) as a caller would.</summary>
public sealed class InternalEvents(Stream stream)
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    public List<(string Name, JsonElement Data)> All { get; } = [];

    /// <summary>The next event, or null at the end of the stream.</summary>
    public async Task<(string Name, JsonElement Data)?> NextAsync(CancellationToken cancellationToken = default)
    {
        string? name = null;
        var data = new StringBuilder();
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (name is null)
                {
                    continue;
                }

                var parsed = (name, JsonDocument.Parse(data.ToString()).RootElement.Clone());
                All.Add(parsed);
                return parsed;
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line["data: ".Length..]);
            }
        }

        return null;
    }

    public async Task<List<(string Name, JsonElement Data)>> ReadToEndAsync()
    {
        while (await NextAsync() is not null)
        {
        }

        return All;
    }

    public string Text => string.Concat(All.Where(e => e.Name == "delta").Select(e => e.Data.GetProperty("text").GetString()));
}
