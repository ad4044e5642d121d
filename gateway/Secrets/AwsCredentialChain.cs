using System.Text.Json;
using System.Xml.Linq;
using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>AWS credentials as resolved, and where from (never logged with their values).</summary>
public sealed record AwsCredentialSet(string AccessKeyId, string SecretAccessKey, string? SessionToken, DateTimeOffset? Expiration, string Source);

/// <summary>
/// The credentials a pod has, found the way the AWS SDKs look, in this order: environment variables
/// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); a web-identity token file (IRSA: AWS_WEB_IDENTITY_TOKEN_FILE
/// and AWS_ROLE_ARN, exchanged with STS AssumeRoleWithWebIdentity); the container credentials endpoint (ECS task roles,
/// EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
/// _TOKEN); the EC2 instance metadata service (IMDSv2) unless AWS_EC2_METADATA_DISABLED is true. Temporary credentials
/// are kept until five minutes before they expire, on the gateway's clock; every secret part is registered for
/// redaction. Failures name the source and the cause, never a value.
/// </summary>
public sealed partial class AwsCredentialChain : IDisposable
{
    /// <summary>Temporary credentials are renewed this long before they expire.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(1);
    private const string DefaultContainerHost = "http://169.254.170.2";
    private const string DefaultMetadataEndpoint = "http://169.254.169.254";

    private readonly AwsEnvironment _environment;
    private readonly GatewaySettingsMonitor _settings;
    private readonly TimeProvider _time;
    private readonly SecretRegistry _registry;
    private readonly ILogger<AwsCredentialChain> _logger;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile AwsCredentialSet? _cached;

    public AwsCredentialChain(AwsEnvironment environment, GatewaySettingsMonitor settings, TimeProvider time, SecretRegistry registry, ILogger<AwsCredentialChain> logger)
    {
        _environment = environment;
        _settings = settings;
        _time = time;
        _registry = registry;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false });
    }

    /// <summary>Current credentials; throws <see cref="SecretUnavailableException"/> naming the source that failed.</summary>
    public async Task<AwsCredentialSet> GetAsync(CancellationToken cancellationToken)
    {
        if (FromEnvironment() is { } fixedCredentials)
        {
            return fixedCredentials;
        }

        if (Fresh(_cached) is { } cached)
        {
            return cached;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (Fresh(_cached) is { } fetched)
            {
                return fetched;
            }

            var credentials = await FetchAsync(cancellationToken);
            _registry.Add(credentials.SecretAccessKey);
            _registry.Add(credentials.SessionToken);
            Log.Resolved(_logger, credentials.Source, credentials.Expiration);
            _cached = credentials;
            return credentials;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>AWS refused the credentials (expired, revoked): the next call fetches new ones.</summary>
    public void Invalidate() => _cached = null;

    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }

    /// <summary>The region: Gateway:Aws:Region, else AWS_REGION, else AWS_DEFAULT_REGION.</summary>
    public string? Region => _settings.Current.Aws.Region ?? _environment["AWS_REGION"] ?? _environment["AWS_DEFAULT_REGION"];

    /// <summary>An AWS environment variable (AWS_ENDPOINT_URL…).</summary>
    public string? Variable(string name) => _environment[name];

    private AwsCredentialSet? Fresh(AwsCredentialSet? credentials)
        => credentials is not null && (credentials.Expiration is not { } expiration || expiration - RenewBefore > _time.GetUtcNow()) ? credentials : null;

    private AwsCredentialSet? FromEnvironment()
    {
        var (id, secret) = (_environment["AWS_ACCESS_KEY_ID"], _environment["AWS_SECRET_ACCESS_KEY"]);
        if (id is null && secret is null)
        {
            return null;
        }

        if (id is null || secret is null)
        {
            throw new SecretUnavailableException($"AWS credentials from the environment are incomplete: {(id is null ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY")} is not set");
        }

        var token = _environment["AWS_SESSION_TOKEN"];
        _registry.Add(secret);
        _registry.Add(token);
        return new AwsCredentialSet(id, secret, token, null, "environment");
    }

    private Task<AwsCredentialSet> FetchAsync(CancellationToken cancellationToken)
    {
        if (_environment["AWS_WEB_IDENTITY_TOKEN_FILE"] is { } tokenFile)
        {
            return WebIdentityAsync(tokenFile, cancellationToken);
        }

        if (_environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] is { } full)
        {
            return ContainerAsync(full, cancellationToken);
        }

        if (_environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] is { } relative)
        {
            return ContainerAsync(DefaultContainerHost + relative, cancellationToken);
        }

        if (!string.Equals(_environment["AWS_EC2_METADATA_DISABLED"], "true", StringComparison.OrdinalIgnoreCase))
        {
            return InstanceMetadataAsync(cancellationToken);
        }

        throw new SecretUnavailableException("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (IRSA), or run where the container credentials endpoint (ECS, EKS Pod Identity) or instance metadata answers");
    }

    // STS AssumeRoleWithWebIdentity (a form POST; the token signs the call, not SigV4): IRSA on EKS.
    private async Task<AwsCredentialSet> WebIdentityAsync(string tokenFile, CancellationToken cancellationToken)
    {
        var role = _environment["AWS_ROLE_ARN"]
            ?? throw new SecretUnavailableException("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: web identity needs the role to assume");
        string token;
        try
        {
            token = (await File.ReadAllTextAsync(tokenFile, cancellationToken)).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SecretUnavailableException($"the web identity token file {tokenFile} cannot be read ({ex.GetType().Name})");
        }

        _registry.Add(token);
        var endpoint = _settings.Current.Aws.StsEndpoint ?? _environment["AWS_ENDPOINT_URL_STS"] ?? _environment["AWS_ENDPOINT_URL"]
            ?? (Region is { } region ? $"https://sts.{region}.{AwsSecretsManagerSource.DnsSuffix(region)}" : "https://sts.amazonaws.com");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.TrimEnd('/') + "/"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Action"] = "AssumeRoleWithWebIdentity",
                ["Version"] = "2011-06-15",
                ["RoleArn"] = role,
                ["RoleSessionName"] = _environment["AWS_ROLE_SESSION_NAME"] ?? "ai-gateway",
                ["WebIdentityToken"] = token,
            }),
        };
        var (status, body) = await SendAsync(request, "STS AssumeRoleWithWebIdentity", _settings.Current.Aws.Timeout, cancellationToken);
        XElement root;
        try
        {
            root = XDocument.Parse(body).Root!;
        }
        catch (System.Xml.XmlException)
        {
            throw new SecretUnavailableException($"STS AssumeRoleWithWebIdentity answered {status} with a body that is not XML");
        }

        if (status != 200)
        {
            var code = Element(root, "Code") ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            throw new SecretUnavailableException($"STS refused AssumeRoleWithWebIdentity for {role} ({code}: {ErrorMessage(Element(root, "Message"))})");
        }

        return Credentials(Element(root, "AccessKeyId"), Element(root, "SecretAccessKey"), Element(root, "SessionToken"), Element(root, "Expiration"), "web identity (" + role + ")");
    }

    // The container credentials endpoint: ECS task roles (relative URI) and EKS Pod Identity (full URI with a token file).
    private async Task<AwsCredentialSet> ContainerAsync(string address, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || !AllowedContainerEndpoint(uri))
        {
            throw new SecretUnavailableException("the container credentials endpoint must be https, or http on a loopback address or the ECS/EKS link-local address (169.254.170.2, 169.254.170.23, fd00:ec2::23)");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        string? authorization = _environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"];
        if (_environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] is { } tokenFile)
        {
            try
            {
                authorization = (await File.ReadAllTextAsync(tokenFile, cancellationToken)).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SecretUnavailableException($"the container authorization token file {tokenFile} cannot be read ({ex.GetType().Name})");
            }
        }

        if (authorization is not null)
        {
            _registry.Add(authorization);
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var (status, body) = await SendAsync(request, "the container credentials endpoint", _settings.Current.Aws.Timeout, cancellationToken);
        return status == 200
            ? FromJson(body, "container credentials endpoint")
            : throw new SecretUnavailableException($"the container credentials endpoint answered {status}");
    }

    // IMDSv2: a session token, the instance profile's role, then its credentials.
    private async Task<AwsCredentialSet> InstanceMetadataAsync(CancellationToken cancellationToken)
    {
        var endpoint = (_environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? DefaultMetadataEndpoint).TrimEnd('/');
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Put, endpoint + "/latest/api/token");
        tokenRequest.Headers.TryAddWithoutValidation("X-aws-ec2-metadata-token-ttl-seconds", "21600");
        var (status, token) = await SendAsync(tokenRequest, "the instance metadata service", MetadataTimeout, cancellationToken);
        if (status != 200)
        {
            throw new SecretUnavailableException($"the instance metadata service answered {status} for a session token");
        }

        _registry.Add(token);
        async Task<string> GetAsync(string path)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, endpoint + path);
            request.Headers.TryAddWithoutValidation("X-aws-ec2-metadata-token", token);
            var (code, body) = await SendAsync(request, "the instance metadata service", MetadataTimeout, cancellationToken);
            return code == 200 ? body : throw new SecretUnavailableException($"the instance metadata service answered {code} (no instance profile role?)");
        }

        var role = (await GetAsync("/latest/meta-data/iam/security-credentials/")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? throw new SecretUnavailableException("the instance has no instance profile role");
        return FromJson(await GetAsync("/latest/meta-data/iam/security-credentials/" + Uri.EscapeDataString(role)), "instance metadata (" + role + ")");
    }

    private AwsCredentialSet FromJson(string body, string source)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            string? Field(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            return Credentials(Field("AccessKeyId"), Field("SecretAccessKey"), Field("Token"), Field("Expiration"), source);
        }
        catch (JsonException)
        {
            throw new SecretUnavailableException($"the {source} answered with a body that is not JSON");
        }
    }

    private static AwsCredentialSet Credentials(string? id, string? secret, string? token, string? expiration, string source)
    {
        if (id is null || secret is null)
        {
            throw new SecretUnavailableException($"the {source} answer has no AccessKeyId or SecretAccessKey");
        }

        DateTimeOffset? expires = DateTimeOffset.TryParse(expiration, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time) ? time : null;
        return new AwsCredentialSet(id, secret, token, expires, source);
    }

    private Task<(int Status, string Body)> SendAsync(HttpRequestMessage request, string what, TimeSpan timeout, CancellationToken cancellationToken)
        => SendAsync(_http, request, what, timeout, _time, cancellationToken);

    /// <summary>One call with a deadline on the gateway's clock; the status and body, or a <see cref="SecretUnavailableException"/> saying what did not answer.</summary>
    internal static async Task<(int Status, string Body)> SendAsync(HttpClient http, HttpRequestMessage request, string what, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var response = await http.SendAsync(request, linked.Token);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(linked.Token));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new SecretUnavailableException($"{what} did not answer within {timeout}");
        }
        catch (HttpRequestException ex)
        {
            throw new SecretUnavailableException($"{what} cannot be reached ({ex.HttpRequestError})", ex);
        }
    }

    private static bool AllowedContainerEndpoint(Uri uri)
        => uri.Scheme == Uri.UriSchemeHttps
            || (uri.Scheme == Uri.UriSchemeHttp && (uri.IsLoopback || uri.Host is "169.254.170.2" or "169.254.170.23" or "[fd00:ec2::23]"));

    private static string? Element(XElement root, string name) => root.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    /// <summary>An AWS error message as the gateway repeats it: one line, at most 200 characters.</summary>
    internal static string ErrorMessage(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return "no message";
        }

        var line = new string([.. message.Select(c => char.IsControl(c) ? ' ' : c)]).Trim();
        return line.Length > 200 ? line[..200] + "…" : line;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "AWS credentials resolved from {Source} (expire {Expiration})")]
        public static partial void Resolved(ILogger logger, string source, DateTimeOffset? expiration);
    }
}
