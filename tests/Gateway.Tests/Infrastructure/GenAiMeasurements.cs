using System.Diagnostics.Metrics;

namespace Gateway.Tests.Infrastructure;

/// <summary>Every measurement of one of the gateway's meters (the GenAI one unless named) while alive, with its tags, as exporters would see it.</summary>
public sealed class GenAiMeasurements : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<Measurement> _all = [];

    public GenAiMeasurements(string meter = "Gateway.GenAi")
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        _listener.Start();
    }

    public sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
    {
        public string? Tag(string name) => Tags.TryGetValue(name, out var value) ? value as string : null;
    }

    public IReadOnlyList<Measurement> All
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    public IReadOnlyList<Measurement> Durations => [.. All.Where(m => m.Instrument == "gen_ai.client.operation.duration")];

    public IReadOnlyList<Measurement> Tokens(string type) => [.. All.Where(m => m.Instrument == "gen_ai.client.token.usage" && m.Tag("gen_ai.token.type") == type)];

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
        lock (_all)
        {
            _all.Add(new Measurement(instrument.Name, value, copy));
        }
    }

    /// <summary>Takes one reading of the observable instruments.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();
}
