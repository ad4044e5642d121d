using System.Text;
using System.Text.Json;
using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>
/// <c>aws-sm:secret-id[#field][@stage]</c>: Secrets Manager's <c>GetSecretValue</c>, one JSON POST
/// (<c>X-Amz-Target: secretsmanager.GetSecretValue</c>) signed with SigV4, with the credentials of
/// <see cref="AwsCredentialChain"/>. The region is the ARN's, else <c>Gateway:Aws:Region</c> / AWS_REGION /
/// AWS_DEFAULT_REGION; the endpoint the region's unless overridden. Secrets Manager's errors
/// (<c>ResourceNotFoundException</c>, <c>AccessDeniedException</c>, throttling, expired credentials) become
/// <see cref="SecretUnavailableException"/>s naming the reference and the error type, never a value; refused
/// credentials are dropped so the next read fetches new ones.
/// </summary>
public sealed class AwsSecretsManagerSource(AwsCredentialChain credentials, GatewaySettingsMonitor settings, TimeProvider time) : ISecretSource, IDisposable
{
    public const string Target = "secretsmanager.GetSecretValue";
    public const string ContentType = "application/x-amz-json-1.1";

    // Credentials AWS no longer accepts: fetched again at the next read.
    private static readonly HashSet<string> RefusedCredentials = new(StringComparer.Ordinal)
    {
        "ExpiredTokenException", "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "IncompleteSignature",
    };

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false });

    public bool Handles(SecretReference reference) => reference is AwsSecretsManagerReference;

    public async Task<SecretFetch> FetchAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        var secret = (AwsSecretsManagerReference)reference;
        var region = RegionOf(secret.SecretId) ?? credentials.Region
            ?? throw new SecretUnavailableException($"{secret} has no AWS region: set Gateway:Aws:Region or AWS_REGION, or refer to the secret by its ARN");
        if (!IsKnownRegion(region))
        {
            throw new SecretUnavailableException($"{secret}: '{region}' is not an AWS region (e.g. us-east-1, eu-west-1)");
        }

        var options = settings.Current.Aws;
        var endpoint = new Uri((options.SecretsManagerEndpoint ?? credentials.Variable("AWS_ENDPOINT_URL_SECRETS_MANAGER") ?? credentials.Variable("AWS_ENDPOINT_URL")
            ?? $"https://secretsmanager.{region}.{DnsSuffix(region)}").TrimEnd('/') + "/");
        AwsCredentialSet signer;
        try
        {
            signer = await credentials.GetAsync(cancellationToken);
        }
        catch (SecretUnavailableException ex)
        {
            throw new SecretUnavailableException($"{secret} cannot be read: {ex.Message}", ex);
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["SecretId"] = secret.SecretId, ["VersionStage"] = secret.Stage }, AwsJsonContext.Default.DictionaryStringString);
        var now = time.GetUtcNow();
        var headers = new List<KeyValuePair<string, string>>
        {
            new("host", endpoint.IsDefaultPort ? endpoint.Host : endpoint.Authority),
            new("content-type", ContentType),
            new(AwsSigV4.DateHeader, AwsSigV4.AmzDate(now)),
            new("X-Amz-Target", Target),
        };
        if (signer.SessionToken is { } token)
        {
            headers.Add(new(AwsSigV4.TokenHeader, token));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        foreach (var (name, text) in headers.Where(h => h.Key is not ("host" or "content-type")))
        {
            request.Headers.TryAddWithoutValidation(name, text);
        }

        request.Headers.TryAddWithoutValidation("Authorization", AwsSigV4.Authorization("POST", endpoint, headers, body, signer, region, "secretsmanager", now));
        var (status, answer) = await AwsCredentialChain.SendAsync(_http, request, $"{secret}: Secrets Manager", options.Timeout, time, cancellationToken);
        using var json = Parse(answer, secret, status);
        var root = json.RootElement;
        if (status != 200)
        {
            var type = Text(root, "__type") is { } full ? full[(full.LastIndexOf('#') + 1)..] : $"HTTP {status}";
            if (RefusedCredentials.Contains(type))
            {
                credentials.Invalidate();
            }

            var advice = type switch
            {
                "ResourceNotFoundException" => $" (no such secret, or no version at stage {secret.Stage})",
                "AccessDeniedException" => " (the credentials may not call secretsmanager:GetSecretValue on it, or decrypt it)",
                "ThrottlingException" or "TooManyRequestsException" or "RequestLimitExceeded" => " (throttled; the last good value keeps serving and the next poll tries again)",
                _ when RefusedCredentials.Contains(type) => " (AWS refused the credentials; new ones are fetched at the next read)",
                _ => "",
            };
            throw new SecretUnavailableException($"{secret}: Secrets Manager answered {type}{advice}: {AwsCredentialChain.ErrorMessage(Text(root, "Message") ?? Text(root, "message"))}");
        }

        var value = Text(root, "SecretString") ?? Binary(Text(root, "SecretBinary"), secret)
            ?? throw new SecretUnavailableException($"{secret}: the secret has neither SecretString nor SecretBinary");
        var version = Text(root, "VersionId") ?? "aws";
        return new SecretFetch(secret.Field is null ? Trimmed(value, secret) : FieldOf(value, secret), version);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The DNS suffix of a region's endpoints (China's differ).</summary>
    public static string DnsSuffix(string region) => region.StartsWith("cn-", StringComparison.Ordinal) ? "amazonaws.com.cn" : "amazonaws.com";

    /// <summary>Whether the AWS SDK knows the region (a typo such as <c>eu-west-9</c> is not one).</summary>
    public static bool IsKnownRegion(string region) => Amazon.RegionEndpoint.EnumerableAllRegions.Any(r => r.SystemName == region);

    // arn:aws:secretsmanager:{region}:{account}:secret:{name}
    private static string? RegionOf(string secretId)
    {
        var parts = secretId.Split(':');
        return parts is ["arn", _, "secretsmanager", { Length: > 0 } region, ..] ? region : null;
    }

    private static string? Binary(string? base64, AwsSecretsManagerReference secret)
    {
        try
        {
            return base64 is null ? null : Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            throw new SecretUnavailableException($"{secret}: SecretBinary is not base64");
        }
    }

    private static string Trimmed(string value, AwsSecretsManagerReference secret)
        => value.Trim() is { Length: > 0 } trimmed ? trimmed : throw new SecretUnavailableException($"{secret}: the secret is empty");

    private static string FieldOf(string value, AwsSecretsManagerReference secret)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value);
        }
        catch (JsonException)
        {
            throw new SecretUnavailableException($"{secret}: the secret is not JSON, so it has no field '{secret.Field}'");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SecretUnavailableException($"{secret}: the secret is not a JSON object, so it has no field '{secret.Field}'");
            }

            if (!root.TryGetProperty(secret.Field!, out var field))
            {
                throw new SecretUnavailableException($"{secret}: the secret has no field '{secret.Field}' (its fields: {string.Join(", ", root.EnumerateObject().Select(p => p.Name))})");
            }

            return field.ValueKind switch
            {
                JsonValueKind.String => Trimmed(field.GetString()!, secret),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => field.GetRawText(),
                _ => throw new SecretUnavailableException($"{secret}: field '{secret.Field}' is a JSON {field.ValueKind.ToString().ToLowerInvariant()}, not a text"),
            };
        }
    }

    private static JsonDocument Parse(string body, AwsSecretsManagerReference secret, int status)
    {
        try
        {
            return JsonDocument.Parse(body.Length == 0 ? "{}" : body);
        }
        catch (JsonException)
        {
            throw new SecretUnavailableException($"{secret}: Secrets Manager answered {status} with a body that is not JSON");
        }
    }

    private static string? Text(JsonElement root, string name)
        => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class AwsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
