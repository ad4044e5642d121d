using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>
/// The small part of Vault's HTTP API the gateway needs: KV v1/v2 reads, and a token from the token, AppRole or
/// Kubernetes auth method, renewed (renew-self) before it expires while renewable, and replaced by a new login when it
/// is not, or when Vault answers 403.
/// </summary>
public sealed partial class VaultClient : IDisposable
{
    public const string TokenHeader = "X-Vault-Token";
    public const string NamespaceHeader = "X-Vault-Namespace";

    private readonly GatewaySettingsMonitor _settings;
    private readonly ISecretSource[] _bootstrap;
    private readonly TimeProvider _time;
    private readonly ILogger<VaultClient> _logger;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _login = new(1, 1);
    private volatile VaultToken? _token;

    private readonly SecretRegistry? _registry;

    public VaultClient(GatewaySettingsMonitor settings, TimeProvider time, ILogger<VaultClient> logger, SecretRegistry? registry = null, HttpMessageHandler? handler = null)
    {
        _registry = registry;
        _settings = settings;
        _time = time;
        _logger = logger;
        // role_id, secret_id and the token itself come from env: or file: references, never from Vault.
        _bootstrap = [new EnvironmentSecretSource(), new FileSecretSource()];
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: handler is null);
    }

    private VaultOptions Options => _settings.Current.Vault;

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
            var token = await TokenAsync(cancellationToken);
            using var response = await CallAsync(method, path, body, token.Value, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Forbidden && attempt == 0)
            {
                // The token was revoked or expired early: log in again once and retry.
                Log.Forbidden(_logger, what);
                _token = null;
                continue;
            }

            return await ParseAsync(response, what, cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, object? body, string? token, CancellationToken cancellationToken)
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

        using var timeout = new CancellationTokenSource(options.Timeout, _time);
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

    private static async Task<JsonDocument> ParseAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
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

    /// <summary>A usable token: the current one, renewed when past two thirds of its lease, or a new login.</summary>
    private async Task<VaultToken> TokenAsync(CancellationToken cancellationToken)
    {
        var token = _token;
        var now = _time.GetUtcNow();
        if (token is not null && (token.RenewAt is null || now < token.RenewAt))
        {
            return token;
        }

        await _login.WaitAsync(cancellationToken);
        try
        {
            token = _token;
            if (token is not null && (token.RenewAt is null || now < token.RenewAt))
            {
                return token;
            }

            if (token is { Renewable: true } && now < token.ExpiresAt && await TryRenewAsync(token, cancellationToken) is { } renewed)
            {
                return _token = renewed;
            }

            return _token = await LoginAsync(cancellationToken);
        }
        finally
        {
            _login.Release();
        }
    }

    private async Task<VaultToken?> TryRenewAsync(VaultToken token, CancellationToken cancellationToken)
    {
        using var response = await CallAsync(HttpMethod.Post, "auth/token/renew-self", new Dictionary<string, string>(), token.Value, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            Log.RenewFailed(_logger, (int)response.StatusCode);
            return null;
        }

        using var document = await ParseAsync(response, "renew-self", cancellationToken);
        Log.Renewed(_logger);
        return Token(document.RootElement.GetProperty("auth"), token.Value);
    }

    private async Task<VaultToken> LoginAsync(CancellationToken cancellationToken)
    {
        var auth = Options.Auth;
        switch (_settings.Current.VaultAuthMethod)
        {
            case VaultAuthMethod.Approle:
            {
                var body = new Dictionary<string, string>
                {
                    ["role_id"] = await BootstrapAsync(auth.RoleId, "Gateway:Vault:Auth:RoleId", cancellationToken),
                    ["secret_id"] = await BootstrapAsync(auth.SecretId, "Gateway:Vault:Auth:SecretId", cancellationToken),
                };
                return await AuthLoginAsync(auth.Mount ?? "approle", body, cancellationToken);
            }

            case VaultAuthMethod.Kubernetes:
            {
                string jwt;
                try
                {
                    // Projected service-account tokens rotate: read the file at every login.
                    jwt = (await File.ReadAllTextAsync(auth.JwtPath, cancellationToken)).Trim();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new SecretUnavailableException($"the service-account token {auth.JwtPath} cannot be read ({ex.GetType().Name})");
                }

                var body = new Dictionary<string, string> { ["role"] = auth.Role ?? "", ["jwt"] = jwt };
                return await AuthLoginAsync(auth.Mount ?? "kubernetes", body, cancellationToken);
            }

            default:
            {
                var value = await BootstrapAsync(Options.Token, "Gateway:Vault:Token", cancellationToken);
                using var response = await CallAsync(HttpMethod.Get, "auth/token/lookup-self", null, value, cancellationToken);
                using var document = await ParseAsync(response, "token lookup-self", cancellationToken);
                var data = document.RootElement.GetProperty("data");
                var ttl = data.TryGetProperty("ttl", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt64() : 0;
                var renewable = data.TryGetProperty("renewable", out var r) && r.ValueKind == JsonValueKind.True;
                return NewToken(value, ttl, renewable);
            }
        }
    }

    private async Task<VaultToken> AuthLoginAsync(string mount, Dictionary<string, string> body, CancellationToken cancellationToken)
    {
        using var response = await CallAsync(HttpMethod.Post, $"auth/{mount}/login", body, null, cancellationToken);
        using var document = await ParseAsync(response, $"login at auth/{mount}", cancellationToken);
        Log.LoggedIn(_logger, mount);
        return Token(document.RootElement.GetProperty("auth"), null);
    }

    private VaultToken Token(JsonElement auth, string? existing)
    {
        var value = auth.TryGetProperty("client_token", out var ct) && ct.GetString() is { Length: > 0 } t ? t : existing
            ?? throw new SecretUnavailableException("Vault's login answer has no client_token");
        return NewToken(value, auth.GetProperty("lease_duration").GetInt64(), auth.TryGetProperty("renewable", out var r) && r.ValueKind == JsonValueKind.True);
    }

    private VaultToken NewToken(string value, long ttlSeconds, bool renewable)
    {
        _registry?.Add(value);
        var now = _time.GetUtcNow();
        // A ttl of 0 is a root or non-expiring token: nothing to renew.
        return ttlSeconds <= 0
            ? new VaultToken(value, false, null, DateTimeOffset.MaxValue)
            : new VaultToken(value, renewable, now + TimeSpan.FromSeconds(ttlSeconds * 2 / 3.0), now + TimeSpan.FromSeconds(ttlSeconds));
    }

    private async Task<string> BootstrapAsync(string? text, string setting, CancellationToken cancellationToken)
    {
        if (!SecretReference.TryParse(text, out var reference, out var error) || reference is VaultSecretReference)
        {
            throw new SecretUnavailableException($"{setting} {error ?? "must be an env: or file: reference"}");
        }

        var value = (await _bootstrap.First(s => s.Handles(reference!)).FetchAsync(reference!, cancellationToken)).Value;
        _registry?.Add(value);
        return value;
    }

    public void Dispose()
    {
        _http.Dispose();
        _login.Dispose();
    }

    private sealed record VaultToken(string Value, bool Renewable, DateTimeOffset? RenewAt, DateTimeOffset ExpiresAt);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Logged in to Vault at auth/{Mount}")]
        public static partial void LoggedIn(ILogger logger, string mount);

        [LoggerMessage(2, LogLevel.Debug, "Renewed the Vault token")]
        public static partial void Renewed(ILogger logger);

        [LoggerMessage(3, LogLevel.Warning, "Vault refused to renew the token ({Status}); logging in again")]
        public static partial void RenewFailed(ILogger logger, int status);

        [LoggerMessage(4, LogLevel.Warning, "Vault answered 403 for {Reference}; logging in again")]
        public static partial void Forbidden(ILogger logger, string reference);
    }
}

/// <summary><c>vault:mount/path#field</c>.</summary>
internal sealed class VaultSecretSource(VaultClient vault) : ISecretSource
{
    public bool Handles(SecretReference reference) => reference is VaultSecretReference;

    public Task<SecretFetch> FetchAsync(SecretReference reference, CancellationToken cancellationToken)
        => vault.ReadAsync((VaultSecretReference)reference, cancellationToken);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class VaultJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
