using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gateway.Auth;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// SIGTERM on the real gateway process (as Kubernetes stops a pod): readiness is 503 from the first moment, new
/// connections are still accepted for Gateway:Shutdown:RefuseAfter and refused after it, the streams in flight all
/// finish, and the process exits 0.
/// </summary>
public sealed class GracefulShutdownTests
{
    private const int Streams = 20;

    [Test]
    public async Task Sigterm_During20Streams_ReadinessIs503AtOnce_NewConnectionsRefusedAfterTheDelay_AllStreamsComplete_Exit0()
    {
        await using var vendor = await HeldStreamVendor.StartAsync();
        var folder = Directory.CreateTempSubdirectory("gateway-sigterm-").FullName;
        foreach (var file in Directory.GetFiles(RepoPaths.Config, "*.json"))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        var key = ClientKeyHasher.NewKey();
        File.WriteAllText(Path.Combine(folder, "zz-test.json"), new JsonObject
        {
            ["Gateway"] = new JsonObject
            {
                ["Clients"] = new JsonObject { ["team-a"] = new JsonObject { ["KeySha256"] = ClientKeyHasher.HashHex(key) } },
                // A short pause before refusing (the shipped 5 s would only make the test slower), a long drain.
                ["Shutdown"] = new JsonObject { ["RefuseAfter"] = "00:00:02", ["Drain"] = "00:01:00" },
            },
            ["ReverseProxy"] = new JsonObject { ["Clusters"] = new JsonObject { ["openai"] = new JsonObject { ["Destinations"] = new JsonObject { ["primary"] = new JsonObject { ["Address"] = vendor.Address } } } } },
        }.ToJsonString());

        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Gateway.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["Gateway__ConfigDirectory"] = folder,
                ["OPENAI_API_KEY"] = "sk-proj-" + Guid.NewGuid().ToString("N"),
                ["Logging__Console__FormatterName"] = "simple",
            },
        };
        using var gateway = Process.Start(start)!;
        var output = gateway.StandardOutput.ReadToEndAsync();
        var errors = gateway.StandardError.ReadToEndAsync();
        try
        {
            var baseAddress = new Uri($"http://127.0.0.1:{port}");
            using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };
            await GatewayHost.WaitUntilAsync(async () => (await TryStatusAsync(baseAddress, "/healthz/live")) == HttpStatusCode.OK, "the gateway answers");

            // 20 streams in flight, each mid-way (its first events received).
            var streams = Enumerable.Range(0, Streams).Select(async _ =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, VendorCase.OpenAi.GatewayPath)
                {
                    Content = new StringContent("""{"model":"gpt-6-luna","stream":true,"messages":[{"role":"user","content":"Hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new("Bearer", key);
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }).ToList();
            await GatewayHost.WaitUntilAsync(() => Task.FromResult(vendor.Streaming == Streams), "20 streams are in flight");

            var signalled = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", gateway.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            // Readiness is 503 from the first moment, while new connections are still accepted.
            await GatewayHost.WaitUntilAsync(async () => (await TryStatusAsync(baseAddress, "/healthz/ready")) == HttpStatusCode.ServiceUnavailable,
                "readiness turns 503", TimeSpan.FromSeconds(1));
            Assert.That(signalled.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "503 before new connections are refused");

            // After the delay, a new connection is refused.
            await GatewayHost.WaitUntilAsync(async () => await TryStatusAsync(baseAddress, "/healthz/live") is null, "new connections are refused", TimeSpan.FromSeconds(10));
            Assert.That(signalled.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9)), "not before RefuseAfter");

            // The streams in flight finish.
            vendor.Release();
            var finished = await Task.WhenAll(streams);
            Assert.That(finished.Select(f => f.StatusCode), Has.All.EqualTo(HttpStatusCode.OK));
            Assert.That(finished.Select(f => f.Body), Has.All.Contain("data: [DONE]"));

            await gateway.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.That(gateway.ExitCode, Is.Zero, await errors);
        }
        finally
        {
            if (!gateway.HasExited)
            {
                gateway.Kill(entireProcessTree: true);
            }

            TestContext.Out.WriteLine(await output);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // A status on a new connection each time; null when the connection is refused.
    private static async Task<HttpStatusCode?> TryStatusAsync(Uri baseAddress, string path)
    {
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync(path);
            return response.StatusCode;
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return null;
        }
    }
}
