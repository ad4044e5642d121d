using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gateway.Auth;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// SIGTERM on the real gateway process (as Kubernetes stops a pod): readiness is 503 from the first moment, new
/// connections are still accepted for Gateway:Shutdown:RefuseAfter and refused after it, the streams in flight finish —
/// or, when they outlive Gateway:Shutdown:Drain, normalized ones end with a gateway_stopping event — and the process
/// exits 0. A short RefuseAfter (2 s instead of the shipped 5 s) only keeps the test short.
/// </summary>
public sealed class GracefulShutdownTests
{
    private const int Streams = 20;

    [Test]
    public async Task Sigterm_During20Streams_ReadinessIs503AtOnce_NewConnectionsRefusedAfterTheDelay_AllStreamsComplete_Exit0()
    {
        await using var vendor = await HeldStreamVendor.StartAsync();
        await using var gateway = await GatewayProcess.StartAsync(vendor.Address, drain: "00:01:00");

        // 20 streams in flight, each mid-way (its first events received).
        var streams = Enumerable.Range(0, Streams).Select(_ => gateway.PostAsync(VendorCase.OpenAi.GatewayPath,
            """{"model":"gpt-6-luna","stream":true,"messages":[{"role":"user","content":"Hi"}]}""")).ToList();
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(vendor.Streaming == Streams), "20 streams are in flight");

        var signalled = gateway.Terminate();

        // Readiness is 503 from the first moment, while new connections are still accepted.
        await GatewayHost.WaitUntilAsync(async () => await gateway.TryStatusAsync("/healthz/ready") == HttpStatusCode.ServiceUnavailable,
            "readiness turns 503", TimeSpan.FromSeconds(1));
        Assert.That(signalled.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "503 before new connections are refused");

        // After the delay, a new connection is refused.
        await GatewayHost.WaitUntilAsync(gateway.RefusesNewConnectionsAsync, "new connections are refused", TimeSpan.FromSeconds(10));
        Assert.That(signalled.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9)), "not before RefuseAfter");

        // The streams in flight finish.
        vendor.Release();
        var finished = await Task.WhenAll(streams);
        Assert.That(finished.Select(f => f.Status), Has.All.EqualTo(HttpStatusCode.OK));
        Assert.That(finished.Select(f => f.Body), Has.All.Contain("data: [DONE]"));

        Assert.That(await gateway.ExitCodeAsync(), Is.Zero, gateway.Errors);
    }

    [Test]
    public async Task Sigterm_ANormalizedStreamThatOutlivesTheDrain_EndsWithAGatewayStoppingEvent_Exit0()
    {
        await using var vendor = await HeldStreamVendor.StartAsync();
        await using var gateway = await GatewayProcess.StartAsync(vendor.Address, drain: "00:00:02");
        var stream = gateway.PostAsync("/v1/ai/generate", """{"prompt":"Hi","stream":true}""");
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(vendor.Streaming == 1), "the stream is in flight");

        gateway.Terminate();
        var (status, body) = await stream.WaitAsync(TimeSpan.FromSeconds(30));

        // Never released by the vendor: it ends at the drain deadline, in words.
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body, Does.Contain("event: delta"));
        Assert.That(body, Does.Contain("event: error").And.Contain("gateway_stopping"));
        Assert.That(body, Does.Not.Contain("event: done"));
        Assert.That(await gateway.ExitCodeAsync(), Is.Zero, gateway.Errors);
    }

    /// <summary>The gateway as its own process (dotnet Gateway.dll), on a copy of config/ pointing openai at the vendor.</summary>
    private sealed class GatewayProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _output;
        private readonly Task<string> _errors;
        private readonly Uri _address;
        private readonly string _key;
        private readonly HttpClient _client;

        private GatewayProcess(Process process, Uri address, string key)
        {
            (_process, _address, _key) = (process, address, key);
            _output = process.StandardOutput.ReadToEndAsync();
            _errors = process.StandardError.ReadToEndAsync();
            _client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        }

        public string Errors => _errors.IsCompleted ? _errors.Result : "";

        public static async Task<GatewayProcess> StartAsync(string vendorAddress, string drain)
        {
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
                    ["Shutdown"] = new JsonObject { ["RefuseAfter"] = "00:00:02", ["Drain"] = drain },
                },
                ["ReverseProxy"] = new JsonObject
                {
                    ["Clusters"] = new JsonObject { ["openai"] = new JsonObject { ["Destinations"] = new JsonObject { ["primary"] = new JsonObject { ["Address"] = vendorAddress } } } },
                },
            }.ToJsonString());

            var port = ServerPorts.Next();
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
            var gateway = new GatewayProcess(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"), key);
            await GatewayHost.WaitUntilAsync(async () => await gateway.TryStatusAsync("/healthz/live") == HttpStatusCode.OK, "the gateway answers");
            return gateway;
        }

        public async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string json)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new("Bearer", _key);
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        /// <summary>SIGTERM, as the kubelet sends it; the time since.</summary>
        public Stopwatch Terminate()
        {
            var since = Stopwatch.StartNew();
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            kill.WaitForExit();
            return since;
        }

        public async Task<int> ExitCodeAsync()
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await _errors;
            return _process.ExitCode;
        }

        // A status on a new connection each time; null when the connection is refused.
        public async Task<HttpStatusCode?> TryStatusAsync(string path)
        {
            using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero };
            using var client = new HttpClient(handler) { BaseAddress = _address, Timeout = TimeSpan.FromSeconds(5) };
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

        // True when a new connection is refused. A connection reset is not an answer yet: the listener closed while that
        // connection waited in its backlog, and the next attempt decides.
        public async Task<bool> RefusesNewConnectionsAsync()
        {
            try
            {
                return await TryStatusAsync("/healthz/live") is null;
            }
            catch (HttpRequestException ex) when (ex.InnerException is IOException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionReset } })
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            TestContext.Out.WriteLine(await _output);
            _client.Dispose();
            _process.Dispose();
        }
    }
}
