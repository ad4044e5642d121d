using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Auth;
using Gateway.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real gateway on a Kestrel loopback listener, started from a copy of the repository's config/ folder in a temp
/// directory (so tests can edit files and watch them reload), with vendor addresses pointed at fakes, fresh client
/// and vendor keys, and every log entry captured at Trace level.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string OverridesFile = "zz-test.json";

    private readonly WebApplication _app;
    private readonly string _envVariable;

    private GatewayHost(WebApplication app, string directory, Uri address, CapturedLogs logs, IReadOnlyDictionary<string, string> clientKeys,
        IReadOnlyDictionary<string, string> vendorKeys, string envVariable)
    {
        _app = app;
        ConfigDirectory = directory;
        BaseAddress = address;
        Logs = logs;
        ClientKeys = clientKeys;
        VendorKeys = vendorKeys;
        _envVariable = envVariable;
        // No propagator: the test process also hosts the gateway's listeners, and a caller in its own process sends its headers as written.
        Client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public string ConfigDirectory { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public CapturedLogs Logs { get; }

    /// <summary>Client keys by client id: team-a (everything), team-b (provider openai only), team-c (route cohere only).</summary>
    public IReadOnlyDictionary<string, string> ClientKeys { get; }

    /// <summary>Vendor keys by provider; openai's comes from an environment variable, the others from files.</summary>
    public IReadOnlyDictionary<string, string> VendorKeys { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayHost> StartAsync(
        IReadOnlyDictionary<string, string> vendorAddresses, Action<JsonObject>? editProxy = null, Action<JsonObject>? editOverrides = null, Action<WebApplicationBuilder>? configure = null,
        string? configFrom = null, bool kubeletLayout = false)
    {
        var directory = Directory.CreateTempSubdirectory("gateway-test-").FullName;
        foreach (var file in Directory.GetFiles(configFrom ?? RepoPaths.Config, "*.json"))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        var proxy = ReadJson(Path.Combine(directory, "reverseproxy.json"));
        foreach (var (cluster, vendorAddress) in vendorAddresses)
        {
            proxy["ReverseProxy"]!["Clusters"]![cluster]!["Destinations"]!["primary"]!["Address"] = vendorAddress;
        }

        editProxy?.Invoke(proxy);
        WriteJson(Path.Combine(directory, "reverseproxy.json"), proxy);

        var clientKeys = new Dictionary<string, string>
        {
            ["team-a"] = ClientKeyHasher.NewKey(),
            ["team-b"] = ClientKeyHasher.NewKey(),
            ["team-c"] = ClientKeyHasher.NewKey(),
        };
        var vendorKeys = new Dictionary<string, string>
        {
            ["openai"] = "sk-proj-" + Guid.NewGuid().ToString("N"),
            ["anthropic"] = "sk-ant-api03-" + Guid.NewGuid().ToString("N"),
            ["cohere"] = "co-" + Guid.NewGuid().ToString("N"),
        };

        var envVariable = "GWTEST_OPENAI_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(envVariable, vendorKeys["openai"]);
        File.WriteAllText(Path.Combine(directory, "anthropic.key"), vendorKeys["anthropic"] + "\n");
        File.WriteAllText(Path.Combine(directory, "cohere.key"), vendorKeys["cohere"]);

        // Shutdown:RefuseAfter 0: hosts here stop hundreds of times, with no load balancer to wait for (the pause itself is
        // tested on a real process, GracefulShutdownTests).
        var overrides = JsonNode.Parse($$"""
        {
          "Gateway": {
            "Environment": "testing",
            "Shutdown": { "RefuseAfter": "00:00:00" },
            "Providers": {
              "openai": { "ApiKey": "env:{{envVariable}}" },
              "anthropic": { "ApiKey": "file:{{Path.Combine(directory, "anthropic.key")}}" },
              "cohere": { "ApiKey": "file:{{Path.Combine(directory, "cohere.key")}}" }
            },
            "Clients": {
              "team-a": { "KeySha256": "{{ClientKeyHasher.HashHex(clientKeys["team-a"])}}" },
              "team-b": { "KeySha256": "{{ClientKeyHasher.HashHex(clientKeys["team-b"])}}", "Providers": ["openai"] },
              "team-c": { "KeySha256": "{{ClientKeyHasher.HashHex(clientKeys["team-c"])}}", "Routes": ["cohere"] }
            }
          },
          "Logging": { "LogLevel": { "Default": "Trace", "Microsoft": "Trace", "Microsoft.AspNetCore": "Trace", "Yarp": "Trace", "System": "Trace" } }
        }
        """)!.AsObject();
        editOverrides?.Invoke(overrides);
        WriteJson(Path.Combine(directory, OverridesFile), overrides);
        if (kubeletLayout)
        {
            KubeletFolder.Convert(directory);
        }

        var logs = new CapturedLogs();
        var app = GatewayApp.Create(
            [$"--{ConfigFiles.DirectorySetting}={directory}", "--urls=http://127.0.0.1:0"],
            builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(logs);
                builder.Logging.SetMinimumLevel(LogLevel.Trace);
                configure?.Invoke(builder);
            });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GatewayHost(app, directory, new Uri(address), logs, clientKeys, vendorKeys, envVariable);
    }

    public static JsonObject ReadJson(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    /// <summary>Writes the file atomically (write then rename), as a config management tool or a ConfigMap update would.</summary>
    public static void WriteJson(string path, JsonNode node)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Edits one of the config files in place.</summary>
    public void EditConfig(string fileName, Action<JsonObject> edit)
    {
        var path = Path.Combine(ConfigDirectory, fileName);
        var json = ReadJson(path);
        edit(json);
        WriteJson(path, json);
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string? clientKey, string? json = null, bool useApiKeyHeader = false)
    {
        var request = new HttpRequestMessage(method, path);
        if (clientKey is not null)
        {
            if (useApiKeyHeader)
            {
                request.Headers.Add("x-api-key", clientKey);
            }
            else
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", clientKey);
            }
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>Waits (bounded) until a condition on the gateway holds, e.g. after a config file change.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Environment.SetEnvironmentVariable(_envVariable, null);
        try
        {
            Directory.Delete(ConfigDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
