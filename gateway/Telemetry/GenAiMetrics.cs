using System.Diagnostics.Metrics;
using Gateway.Transforms.Contracts;

namespace Gateway.Telemetry;

/// <summary>
/// The OpenTelemetry GenAI client metrics (meter <c>Gateway.GenAi</c>): <c>gen_ai.client.token.usage</c> and
/// <c>gen_ai.client.operation.duration</c>, with the semantic conventions' attributes and bucket advice.
/// </summary>
public sealed class GenAiMetrics : IDisposable
{
    public const string MeterName = "Gateway.GenAi";

    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    private readonly Meter _meter;
    private readonly Histogram<long> _tokens;
    private readonly Histogram<double> _duration;

    public GenAiMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _tokens = _meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Input and output tokens used per call.",
            tags: null, advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _duration = _meter.CreateHistogram("gen_ai.client.operation.duration", "s", "Duration of vendor calls.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    /// <summary>Records one call: its duration (with error.type when it failed) and, when known, its token usage.</summary>
    public void Record(in GenAiCall call, TimeSpan duration, TokenUsage? usage, string? errorType)
    {
        if (_duration.Enabled)
        {
            var tags = call.Tags();
            if (errorType is not null)
            {
                tags.Add("error.type", errorType);
            }

            _duration.Record(duration.TotalSeconds, tags);
        }

        if (usage is { } known && _tokens.Enabled)
        {
            var input = call.Tags();
            input.Add("gen_ai.token.type", "input");
            _tokens.Record(known.InputTokens, input);
            var output = call.Tags();
            output.Add("gen_ai.token.type", "output");
            _tokens.Record(known.OutputTokens, output);
        }
    }

    public void Dispose() => _meter.Dispose();
}

/// <summary>The attributes of one GenAI call.</summary>
public readonly record struct GenAiCall(string Operation, string Provider, string? RequestModel, string? ResponseModel)
{
    public System.Diagnostics.TagList Tags()
    {
        var tags = new System.Diagnostics.TagList
        {
            { "gen_ai.operation.name", Operation },
            { "gen_ai.provider.name", Provider },
        };
        if (RequestModel is not null)
        {
            tags.Add("gen_ai.request.model", RequestModel);
        }

        if (ResponseModel is not null)
        {
            tags.Add("gen_ai.response.model", ResponseModel);
        }

        return tags;
    }
}
