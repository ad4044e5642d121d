using Gateway.Secrets;

namespace Gateway.Tests.Infrastructure;

/// <summary>Waiting for the secret poller without sleeping.</summary>
public static class SecretPolls
{
    /// <summary>Waits (on the poller's own signal) until more than <paramref name="after"/> polls have completed.</summary>
    public static async Task WaitForPollAsync(this SecretPoller poller, int after)
    {
        while (true)
        {
            // The signal is taken before the count is read, so a poll finishing in between is not missed.
            var next = poller.NextCycleAsync();
            if (poller.Cycles > after)
            {
                return;
            }

            await next.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
