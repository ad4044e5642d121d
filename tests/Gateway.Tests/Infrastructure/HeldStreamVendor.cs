using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// OpenAI streaming a chat completion that takes a while: each call gets the first events of the documented stream at
/// once, then the rest when the test releases them — so a test can hold many streams open mid-way.
/// </summary>
public sealed class HeldStreamVendor : LoopbackVendor
{
    private static readonly IReadOnlyList<string> Events = VendorCase.OpenAi.StreamEvents();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _first;
    private int _streaming;

    private HeldStreamVendor(int first) => _first = first;

    /// <summary>Calls whose first events have been sent and that wait for the release.</summary>
    public int Streaming => Volatile.Read(ref _streaming);

    public static async Task<HeldStreamVendor> StartAsync(int first = 2)
    {
        var vendor = new HeldStreamVendor(first);
        await vendor.ListenAsync();
        return vendor;
    }

    /// <summary>Every held stream sends the rest of its events.</summary>
    public void Release() => _release.TrySetResult();

    protected override void OnDisposing() => Release();

    protected override async Task AnswerAsync(HttpContext context)
    {
        await context.Request.Body.CopyToAsync(Stream.Null);
        context.Response.ContentType = "text/event-stream";
        foreach (var e in Events.Take(_first))
        {
            await context.Response.WriteAsync(e);
        }

        await context.Response.Body.FlushAsync();
        Interlocked.Increment(ref _streaming);
        await _release.Task.WaitAsync(context.RequestAborted);
        foreach (var e in Events.Skip(_first))
        {
            await context.Response.WriteAsync(e);
        }
    }
}
