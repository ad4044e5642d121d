using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Resilience;

/// <summary>
/// A call's first-byte deadline on the gateway's clock. It stands in for the request's lifetime feature while the call
/// is forwarded, so whatever waits on <c>RequestAborted</c> — the forwarder's vendor call, a retry's backoff — stops
/// when the caller leaves or the deadline passes; it is disarmed as soon as the response starts. One token source:
/// its timer is the deadline, and the caller leaving cancels it too.
/// </summary>
internal sealed class CallDeadline : IHttpRequestLifetimeFeature, IDisposable
{
    private readonly HttpContext _context;
    private readonly IHttpRequestLifetimeFeature _caller;
    private readonly CancellationTokenSource _source;
    private readonly CancellationTokenRegistration _callerLeft;
    private int _disposed;

    public CallDeadline(HttpContext context, TimeSpan firstByte, TimeProvider time)
    {
        _context = context;
        _caller = context.Features.Get<IHttpRequestLifetimeFeature>()!;
        _source = new CancellationTokenSource(firstByte, time);
        _callerLeft = _caller.RequestAborted.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _source);
        context.Features.Set<IHttpRequestLifetimeFeature>(this);
        context.Response.OnStarting(static state =>
        {
            ((CallDeadline)state).Disarm();
            return Task.CompletedTask;
        }, this);
    }

    public CancellationToken RequestAborted
    {
        get => _source.Token;
        set => throw new NotSupportedException("The call's deadline owns this token.");
    }

    /// <summary>The deadline passed (not the caller leaving).</summary>
    public bool Expired => _source.IsCancellationRequested && !_caller.RequestAborted.IsCancellationRequested;

    public void Abort() => _caller.Abort();

    // The response may start after the call is over (an outer step's problem): nothing to disarm then.
    private void Disarm()
    {
        if (Volatile.Read(ref _disposed) == 0 && !_source.IsCancellationRequested)
        {
            try
            {
                _source.CancelAfter(Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        _context.Features.Set(_caller);
        _callerLeft.Dispose();
        _source.Dispose();
    }
}
