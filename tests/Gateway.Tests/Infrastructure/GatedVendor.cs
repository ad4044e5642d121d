using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A vendor that holds every answer until <see cref="Open"/> is called, so every admission decision of a burst is made
/// before any call ends (and settles). Answers with the OpenAI chat completion fixture.
/// </summary>
public sealed class GatedVendor : LoopbackVendor
{
    private static readonly string Body = VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture);
    private static readonly string Failed = VendorCase.OpenAi.ReadFixture("openai/golden/error-500.json");
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _received;

    /// <summary>Calls that reached the vendor so far.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Completes when the gateway has closed a held call's connection.</summary>
    public Task Aborted => _aborted.Task;

    private int _failFirst;

    /// <summary>A gated vendor whose first <paramref name="failFirst"/> calls answer 503 at once (the later ones are held).</summary>
    public static async Task<GatedVendor> StartAsync(int failFirst = 0)
    {
        var vendor = new GatedVendor { _failFirst = failFirst };
        await vendor.ListenAsync();
        return vendor;
    }

    public void Open() => _gate.TrySetResult();

    protected override void OnDisposing() => Open();

    protected override async Task AnswerAsync(HttpContext context)
    {
        var number = Interlocked.Increment(ref _received);
        await context.Request.Body.CopyToAsync(Stream.Null);
        if (number <= _failFirst)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Failed);
            return;
        }

        try
        {
            await _gate.Task.WaitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The gateway gave up on the call while it was held.
            _aborted.TrySetResult();
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(Body);
    }
}
