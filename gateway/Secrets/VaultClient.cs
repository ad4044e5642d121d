using System.Net;
using System.Text.Json;
using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>
/// Reads fields of KV v1 and v2 secrets from Vault, with the token <see cref="VaultLogin"/> keeps; a 403 (a token
/// revoked or expired early) makes it log in again once and retry.
/// </summary>
public sealed partial class VaultClient : IDisposable
{
    public const string TokenHeader = VaultHttp.TokenHeader;
    public const string NamespaceHeader = VaultHttp.NamespaceHeader;

    private readonly VaultHttp _http;
    private readonly VaultLogin _login;
    private readonly ILogger<VaultClient> _logger;

    public VaultClient(GatewaySettingsMonitor settings, TimeProvider time, ILogger<VaultClient> logger, SecretRegistry? registry = null, HttpMessageHandler? handler = null)
    {
        _logger = logger;
        _http = new VaultHttp(settings, time, handler);
        _login = new VaultLogin(_http, settings, time, logger, registry);
    }

    private VaultOptions Options => _http.Options;

    /// <summary>Reads one field of a KV secret.</summary>
    public async Task<SecretFetch> ReadAsync(VaultSecretReference reference, CancellationToken cancellationToken)
    {
        var version = Options.Mounts.TryGetValue(reference.Mount, out var mount) ? mount.Version : 2;
        var path = version == 1 ? $"{reference.Mount}/{reference.Path}" : $"{reference.Mount}/data/{reference.Path}";
        using var document = await SendAsync(HttpMethod.Get, path, null, reference.Text, cancellationToken);
        var data = document.RootElement.GetProperty("data");
        var fields = version == 1 ? data : data.GetProperty("data");
        var secretVersion = version == 1 ? "kv1"
            : data.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("version", out var v) ? v.GetRawText() : "?";
        if (fields.ValueKind != JsonValueKind.Object || !fields.TryGetProperty(reference.Field, out var field) || field.ValueKind != JsonValueKind.String)
        {
            throw new SecretUnavailableException($"{reference} has no string field '{reference.Field}' in Vault");
        }

        return new SecretFetch(field.GetString()!, secretVersion);
    }

    private async Task<JsonDocument> SendAsync(HttpMethod method, string path, object? body, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await _login.TokenAsync(cancellationToken);
            using var response = await _http.CallAsync(method, path, body, token.Value, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Forbidden && attempt == 0)
            {
                // The token was revoked or expired early: log in again once and retry.
                Log.Forbidden(_logger, what);
                _login.Invalidate();
                continue;
            }

            return await VaultHttp.ParseAsync(response, what, cancellationToken);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _login.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(4, LogLevel.Warning, "Vault answered 403 for {Reference}; logging in again")]
        public static partial void Forbidden(ILogger logger, string reference);
    }
}
