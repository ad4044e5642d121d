namespace Gateway.Resilience;

/// <summary>
/// Moves a call whose provider cannot take it (its circuit breaker is open) to the next place configuration names for
/// it. Implemented where calls are resolved, so resilience itself knows nothing of tasks or vendors.
/// </summary>
public interface ICallFallback
{
    /// <summary>
    /// Re-plans the call for its next fallback that is not <paramref name="unavailable"/> and returns that provider's
    /// name; null when it has nowhere else to go.
    /// </summary>
    string? MoveToNext(HttpContext context, Func<string, bool> unavailable);
}
