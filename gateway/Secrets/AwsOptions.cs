namespace Gateway.Secrets;

/// <summary>
/// AWS, for <c>aws-sm:</c> secret references (<c>Gateway:Aws</c>). Each setting falls back to the variable the AWS SDKs
/// read, so a pod configured for the SDKs (IRSA, EKS Pod Identity, ECS task roles) needs nothing more.
/// </summary>
public sealed record AwsOptions
{
    /// <summary>The region of Secrets Manager and STS. Default: AWS_REGION, then AWS_DEFAULT_REGION (an ARN's own region wins).</summary>
    public string? Region { get; init; }

    /// <summary>Secrets Manager's endpoint. Default: AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL, else the region's.</summary>
    public string? SecretsManagerEndpoint { get; init; }

    /// <summary>STS's endpoint (web identity). Default: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the region's.</summary>
    public string? StsEndpoint { get; init; }

    /// <summary>How long one call to Secrets Manager, STS or a credentials endpoint may take. Default 5 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The process's environment as the AWS credential chain reads it (AWS_ACCESS_KEY_ID, AWS_WEB_IDENTITY_TOKEN_FILE,
/// AWS_CONTAINER_CREDENTIALS_FULL_URI…). A class of its own so tests give each gateway its own environment.
/// </summary>
public class AwsEnvironment
{
    public virtual string? this[string name] => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
