using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>
/// Vault's HTTP API as the gateway calls it: the address and namespace from settings (or VAULT_ADDR, VAULT_NAMESPACE),
/// a deadline per call on the gateway's clock, Vault's <c>errors</c> turned into <see cref="SecretUnavailableException"/>.
/// </summary>
internal sealed class VaultHttp(GatewaySettingsMonitor settings, TimeProvider time, HttpMessageHandler? handler = null) : IDisposable
{
    public const string TokenHeader = "X-Vault-Token";
    public const string NamespaceHeader = "X-Vault-Namespace";

    private readonly HttpClient _http = new(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: handler is null);

    public VaultOptions Options => settings.Current.Vault;

    public async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, object? body, string? token, CancellationToken cancellationToken)
    {
        var options = Options;
        var address = options.Address ?? Environment.GetEnvironmentVariable("VAULT_ADDR")
            ?? throw new SecretUnavailableException("Vault has no address: set Gateway:Vault:Address or VAULT_ADDR");
        using var request = new HttpRequestMessage(method, new Uri(new Uri(address.TrimEnd('/') + "/"), "v1/" + path));
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation(TokenHeader, token);
        }

        if ((options.Namespace ?? Environment.GetEnvironmentVariable("VAULT_NAMESPACE")) is { Length: > 0 } ns)
        {
            request.Headers.TryAddWithoutValidation(NamespaceHeader, ns);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body, VaultJsonContext.Default.DictionaryStringString);
        }

        using var timeout = new CancellationTokenSource(options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await _http.SendAsync(request, linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new SecretUnavailableException($"Vault did not answer {method} /v1/{path} within {options.Timeout}");
        }
        catch (HttpRequestException ex)
        {
            throw new SecretUnavailableException($"Vault cannot be reached for {method} /v1/{path} ({ex.HttpRequestError})", ex);
        }
    }

    public static async Task<JsonDocument> ParseAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var errors = "";
            try
            {
                using var error = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), default, cancellationToken);
                errors = string.Join("; ", error.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
            }

            throw new SecretUnavailableException($"Vault answered {(int)response.StatusCode} for {what}" + (errors.Length > 0 ? $": {errors}" : ""));
        }

        try
        {
            return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), default, cancellationToken);
        }
        catch (JsonException)
        {
            throw new SecretUnavailableException($"Vault's answer for {what} is not JSON");
        }
    }

    public void Dispose() => _http.Dispose();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class VaultJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
