namespace Gateway.Telemetry;

/// <summary>Text from callers or vendors as telemetry writes it.</summary>
internal static class TelemetryText
{
    /// <summary>The longest model id written whole.</summary>
    public const int MaxModelLength = 128;

    /// <summary>A model id as a caller or vendor wrote it; an absurd length is cut, not written whole.</summary>
    public static string? Model(string? model) => model is { Length: > MaxModelLength } ? model[..MaxModelLength] : model;
}
