using System.Diagnostics;
using Gateway.Secrets;
using OpenTelemetry;

namespace Gateway.Telemetry;

/// <summary>Masks resolved secrets and credential headers in span tags, events and status before any exporter sees them.</summary>
internal sealed class RedactingActivityProcessor(SecretRegistry secrets) : BaseProcessor<Activity>
{
    public override void OnEnd(Activity activity)
    {
        foreach (var (key, value) in activity.TagObjects.ToList())
        {
            if (value is string text && secrets.Leaks(text))
            {
                activity.SetTag(key, secrets.Redact(text));
            }
        }

        if (activity.StatusDescription is { } status && secrets.Leaks(status))
        {
            activity.SetStatus(activity.Status, secrets.Redact(status));
        }
    }
}
