using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Anthropic mid-generation: answers a call with the first events of its documented stream, then stays open and quiet
/// until the other side closes the connection — which it reports, so a test sees the vendor call cancelled from the
/// vendor's side rather than inferring it.
/// </summary>
public sealed class StallingVendor : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _received;

    private StallingVendor(WebApplication app) => _app = app;

    /// <summary>The address to give the anthropic cluster.</summary>
    public string Address { get; private set; } = "";

    /// <summary>Calls that reached the vendor so far.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Completes when the gateway has closed a stalled call's connection.</summary>
    public Task Aborted => _aborted.Task;

    public static async Task<StallingVendor> StartAsync(int events)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var vendor = new StallingVendor(app);
        var sent = VendorCase.Anthropic.StreamEvents().Take(events).ToList();
        app.MapPost("/{**path}", async context =>
        {
            Interlocked.Increment(ref vendor._received);
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.ContentType = "text/event-stream";
            foreach (var sseEvent in sent)
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
                vendor._aborted.TrySetResult();
            }
        });
        await app.StartAsync();
        vendor.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/";
        return vendor;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
