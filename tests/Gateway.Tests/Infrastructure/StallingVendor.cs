using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Anthropic mid-generation: answers a call with the first events of its documented stream, then stays open and quiet
/// until the other side closes the connection — which it reports, so a test sees the vendor call cancelled from the
/// vendor's side rather than inferring it.
/// </summary>
public sealed class StallingVendor : LoopbackVendor
{
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _sent;
    private int _received;

    private StallingVendor(int events) => _sent = [.. VendorCase.Anthropic.StreamEvents().Take(events)];

    /// <summary>Calls that reached the vendor so far.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Completes when the gateway has closed a stalled call's connection.</summary>
    public Task Aborted => _aborted.Task;

    public static async Task<StallingVendor> StartAsync(int events)
    {
        var vendor = new StallingVendor(events);
        await vendor.ListenAsync();
        return vendor;
    }

    protected override async Task AnswerAsync(HttpContext context)
    {
        Interlocked.Increment(ref _received);
        await context.Request.Body.CopyToAsync(Stream.Null);
        context.Response.ContentType = "text/event-stream";
        foreach (var sseEvent in _sent)
        {
            await context.Response.WriteAsync(sseEvent);
        }

        await context.Response.Body.FlushAsync();
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            _aborted.TrySetResult();
        }
    }
}
