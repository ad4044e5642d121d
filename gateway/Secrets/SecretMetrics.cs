using System.Diagnostics.Metrics;

namespace Gateway.Secrets;

/// <summary>Secret store instruments (meter <c>Gateway.Secrets</c>): failed reads and rotations, per reference (never a value).</summary>
public sealed class SecretMetrics : IDisposable
{
    public const string MeterName = "Gateway.Secrets";

    private readonly Meter _meter;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _rotations;

    public SecretMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _failures = _meter.CreateCounter<long>("gateway.secret.read.failures", "{read}", "Secret reads that failed; the last good value kept serving.");
        _rotations = _meter.CreateCounter<long>("gateway.secret.rotations", "{rotation}", "New secret values picked up without a restart.");
    }

    public void ReadFailed(SecretReference reference, bool keptLastGood)
    {
        if (_failures.Enabled)
        {
            _failures.Add(1, new KeyValuePair<string, object?>("secret.reference", reference.Text), new KeyValuePair<string, object?>("secret.last_good_kept", keptLastGood));
        }
    }

    public void Rotated(SecretReference reference)
    {
        if (_rotations.Enabled)
        {
            _rotations.Add(1, new KeyValuePair<string, object?>("secret.reference", reference.Text));
        }
    }

    public void Dispose() => _meter.Dispose();
}
