using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// OpenAI streaming a chat completion that takes a while: each call gets the first events of the documented stream at
/// once, then the rest when the test releases them — so a test can hold many streams open mid-way.
/// </summary>
public sealed class HeldStreamVendor : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _streaming;

    private HeldStreamVendor(WebApplication app) => _app = app;

    public string Address { get; private set; } = "";

    /// <summary>Calls whose first events have been sent and that wait for the release.</summary>
    public int Streaming => Volatile.Read(ref _streaming);

    public static async Task<HeldStreamVendor> StartAsync(int first = 2)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var vendor = new HeldStreamVendor(app);
        var events = VendorCase.OpenAi.StreamEvents();
        app.MapPost("/{**path}", async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.ContentType = "text/event-stream";
            foreach (var e in events.Take(first))
            {
                await context.Response.WriteAsync(e);
            }

            await context.Response.Body.FlushAsync();
            Interlocked.Increment(ref vendor._streaming);
            await vendor._release.Task.WaitAsync(context.RequestAborted);
            foreach (var e in events.Skip(first))
            {
                await context.Response.WriteAsync(e);
            }
        });
        await app.StartAsync();
        vendor.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/";
        return vendor;
    }

    public void Release() => _release.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
