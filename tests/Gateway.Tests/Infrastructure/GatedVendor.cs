using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A vendor that holds every answer until <see cref="Open"/> is called, so every admission decision of a burst is made
/// before any call ends (and settles). Answers with the OpenAI chat completion fixture.
/// </summary>
public sealed class GatedVendor : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _received;

    private GatedVendor(WebApplication app) => _app = app;

    public string Address { get; private set; } = "";

    /// <summary>Calls that reached the vendor so far.</summary>
    public int Received => Volatile.Read(ref _received);

    public static async Task<GatedVendor> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var vendor = new GatedVendor(app);
        var body = VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture);
        app.MapPost("/{**path}", async context =>
        {
            Interlocked.Increment(ref vendor._received);
            await context.Request.Body.CopyToAsync(Stream.Null);
            try
            {
                await vendor._gate.Task.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The gateway gave up on the call while it was held.
                vendor._aborted.TrySetResult();
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        await app.StartAsync();
        vendor.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/";
        return vendor;
    }

    /// <summary>Completes when the gateway has closed a held call's connection.</summary>
    public Task Aborted => _aborted.Task;

    public void Open() => _gate.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Open();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
