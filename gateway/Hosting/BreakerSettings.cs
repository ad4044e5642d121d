namespace Gateway.Hosting;

/// <summary>The checks every circuit breaker's settings pass (the limiter's Redis breaker, each provider's breaker).</summary>
internal static class BreakerSettings
{
    public static void Check(double failureRatio, int minimumThroughput, TimeSpan samplingDuration, TimeSpan breakDuration, string setting, List<string> errors)
    {
        if (failureRatio is <= 0 or > 1)
        {
            errors.Add($"{setting}:FailureRatio must be above 0 and at most 1 (was {failureRatio}).");
        }

        if (minimumThroughput < 2)
        {
            errors.Add($"{setting}:MinimumThroughput must be at least 2 (was {minimumThroughput}).");
        }

        if (samplingDuration < TimeSpan.FromMilliseconds(500) || breakDuration < TimeSpan.FromMilliseconds(500))
        {
            errors.Add($"{setting}:SamplingDuration and :BreakDuration must be at least 00:00:00.5 (were {samplingDuration} and {breakDuration}).");
        }
    }
}
