using Polly;

namespace Gateway.Resilience;

/// <summary>
/// Polly's circuit breaker without its frames around a call while it is closed (nearly always): the call is made first
/// and its outcome then handed to the breaker, which counts it as one made inside it — a failure may open it. Used by
/// the vendor attempts and by the Redis limiter; an open or half-open breaker (one probe at a time) still runs the call
/// inside it.
/// </summary>
internal static class ClosedBreaker
{
    /// <summary>
    /// Counts an outcome already had. Not cancellable: the call happened, whether or not its caller is still there. The
    /// breaker's own steps are synchronous, so this completes at once; when the breaker opened meanwhile it refuses the
    /// outcome without counting it, as it would have refused the call.
    /// </summary>
    public static ValueTask CountAsync<T>(ResiliencePipeline breaker, Outcome<T> outcome)
    {
        var polly = ResilienceContextPool.Shared.Get(CancellationToken.None);
        return Returned(breaker.ExecuteOutcomeAsync(static (_, outcome) => ValueTask.FromResult(outcome), polly, outcome), polly);
    }

    /// <inheritdoc cref="CountAsync{T}(ResiliencePipeline, Outcome{T})"/>
    public static ValueTask CountAsync<T>(ResiliencePipeline<T> breaker, Outcome<T> outcome)
    {
        var polly = ResilienceContextPool.Shared.Get(CancellationToken.None);
        return Returned(breaker.ExecuteOutcomeAsync(static (_, outcome) => ValueTask.FromResult(outcome), polly, outcome), polly);
    }

    private static ValueTask Returned<T>(ValueTask<Outcome<T>> counted, ResilienceContext polly)
    {
        if (counted.IsCompletedSuccessfully)
        {
            ResilienceContextPool.Shared.Return(polly);
            return ValueTask.CompletedTask;
        }

        return AwaitAsync(counted, polly);

        static async ValueTask AwaitAsync(ValueTask<Outcome<T>> counted, ResilienceContext polly)
        {
            try
            {
                await counted;
            }
            finally
            {
                ResilienceContextPool.Shared.Return(polly);
            }
        }
    }
}
