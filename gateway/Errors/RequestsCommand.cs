using System.Net.Http.Headers;

namespace Gateway.Errors;

/// <summary>
/// <c>requests show &lt;request-id&gt; [--url http://localhost:5000]</c>: prints the escalation block of a request a
/// running gateway answered with a problem (its operations API, key in <c>GATEWAY_ADMIN_KEY</c>).
/// </summary>
public static class RequestsCommand
{
    public const string KeyVariable = "GATEWAY_ADMIN_KEY";
    public const string DefaultUrl = "http://localhost:5000";

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "requests";

    /// <summary>Runs the command; returns the exit code (0 printed, 1 not found or refused, 2 usage).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null)
    {
        var urlIndex = Array.IndexOf(args, "--url");
        var url = urlIndex >= 0 && urlIndex + 1 < args.Length ? args[urlIndex + 1] : DefaultUrl;
        var key = Environment.GetEnvironmentVariable(KeyVariable);
        if (args is not ["requests", "show", var id, ..] || id.StartsWith("--", StringComparison.Ordinal) || !Uri.TryCreate(url, UriKind.Absolute, out var baseUri))
        {
            error.WriteLine($"usage: requests show <request-id> [--url {DefaultUrl}]   (the operations API's key in {KeyVariable})");
            return 2;
        }

        if (string.IsNullOrEmpty(key))
        {
            error.WriteLine($"Set {KeyVariable} to the operations API's key (its SHA-256 is Gateway:Admin:KeySha256).");
            return 2;
        }

        using var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        client.Timeout = TimeSpan.FromSeconds(10);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/admin/requests/" + Uri.EscapeDataString(id)));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        try
        {
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                output.Write(body);
                return 0;
            }

            error.WriteLine($"{(int)response.StatusCode}: {body}");
            return 1;
        }
        catch (Exception failure) when (failure is HttpRequestException or TaskCanceledException)
        {
            error.WriteLine($"The gateway at {baseUri} could not be reached ({failure.Message}).");
            return 1;
        }
    }
}
