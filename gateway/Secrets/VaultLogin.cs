using System.Text.Json;
using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>
/// The gateway's Vault token: from the token, AppRole or Kubernetes auth method (<see cref="VaultAuthMethod"/>),
/// renewed (renew-self) past two thirds of its lease while renewable, and replaced by a new login when it is not, or
/// when Vault has refused it. Every token and login credential is registered for redaction as soon as it is read.
/// </summary>
internal sealed partial class VaultLogin(VaultHttp http, GatewaySettingsMonitor settings, TimeProvider time, ILogger logger, SecretRegistry? registry) : IDisposable
{
    // role_id, secret_id and the token itself come from env: or file: references, never from Vault.
    private readonly ISecretSource[] _bootstrap = [new EnvironmentSecretSource(), new FileSecretSource()];
    private readonly SemaphoreSlim _login = new(1, 1);
    private volatile VaultToken? _token;

    private VaultOptions Options => http.Options;

    /// <summary>Forgets the current token (Vault refused it): the next call logs in again.</summary>
    public void Invalidate() => _token = null;

    /// <summary>A usable token: the current one, renewed when past two thirds of its lease, or a new login.</summary>
    public async Task<VaultToken> TokenAsync(CancellationToken cancellationToken)
    {
        var token = _token;
        var now = time.GetUtcNow();
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
        using var response = await http.CallAsync(HttpMethod.Post, "auth/token/renew-self", new Dictionary<string, string>(), token.Value, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            Log.RenewFailed(logger, (int)response.StatusCode);
            return null;
        }

        using var document = await VaultHttp.ParseAsync(response, "renew-self", cancellationToken);
        Log.Renewed(logger);
        return Token(document.RootElement.GetProperty("auth"), token.Value);
    }

    private async Task<VaultToken> LoginAsync(CancellationToken cancellationToken)
    {
        var auth = Options.Auth;
        switch (settings.Current.VaultAuthMethod)
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
                using var response = await http.CallAsync(HttpMethod.Get, "auth/token/lookup-self", null, value, cancellationToken);
                using var document = await VaultHttp.ParseAsync(response, "token lookup-self", cancellationToken);
                var data = document.RootElement.GetProperty("data");
                var ttl = data.TryGetProperty("ttl", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt64() : 0;
                var renewable = data.TryGetProperty("renewable", out var r) && r.ValueKind == JsonValueKind.True;
                return NewToken(value, ttl, renewable);
            }
        }
    }

    private async Task<VaultToken> AuthLoginAsync(string mount, Dictionary<string, string> body, CancellationToken cancellationToken)
    {
        using var response = await http.CallAsync(HttpMethod.Post, $"auth/{mount}/login", body, null, cancellationToken);
        using var document = await VaultHttp.ParseAsync(response, $"login at auth/{mount}", cancellationToken);
        Log.LoggedIn(logger, mount);
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
        registry?.Add(value);
        var now = time.GetUtcNow();
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
        registry?.Add(value);
        return value;
    }

    public void Dispose() => _login.Dispose();

    public sealed record VaultToken(string Value, bool Renewable, DateTimeOffset? RenewAt, DateTimeOffset ExpiresAt);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Logged in to Vault at auth/{Mount}")]
        public static partial void LoggedIn(ILogger logger, string mount);

        [LoggerMessage(2, LogLevel.Debug, "Renewed the Vault token")]
        public static partial void Renewed(ILogger logger);

        [LoggerMessage(3, LogLevel.Warning, "Vault refused to renew the token ({Status}); logging in again")]
        public static partial void RenewFailed(ILogger logger, int status);
    }
}
