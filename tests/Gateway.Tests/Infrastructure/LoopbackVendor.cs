using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A scripted vendor on a real Kestrel listener (loopback, a free port) for what WireMock cannot do: hold a call, stream
/// part of an answer, see the gateway hang up. Every POST goes to <see cref="AnswerAsync"/>.
/// </summary>
public abstract class LoopbackVendor : IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>The address to give a cluster's destination.</summary>
    public string Address { get; private set; } = "";

    protected async Task ListenAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapPost("/{**path}", AnswerAsync);
        await _app.StartAsync();
        Address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/";
    }

    protected abstract Task AnswerAsync(HttpContext context);

    /// <summary>Lets held calls go before the listener stops.</summary>
    protected virtual void OnDisposing()
    {
    }

    public async ValueTask DisposeAsync()
    {
        OnDisposing();
        if (_app is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stop.Token);
            await _app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
