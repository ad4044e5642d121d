using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>The secret stores' settings: polling (<c>Gateway:Secrets</c>), Vault (<c>Gateway:Vault</c>) and AWS (<c>Gateway:Aws</c>).</summary>
internal static class SecretsSettingsValidator
{
    /// <summary>Every fault of both sections; the Vault login method as read.</summary>
    public static VaultAuthMethod Validate(SecretsOptions secrets, VaultOptions vault, List<string> errors)
    {
        if (secrets.PollInterval <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:Secrets:PollInterval must be positive (was {secrets.PollInterval}).");
        }

        if (secrets.Jitter is < 0 or > 0.5)
        {
            errors.Add($"Gateway:Secrets:Jitter must be from 0 to 0.5 (was {secrets.Jitter}).");
        }

        var method = ConfigEnum<VaultAuthMethod>.Parse(vault.Auth.Method, "Gateway:Vault:Auth:Method", errors);
        if (method == VaultAuthMethod.Approle && (vault.Auth.RoleId is null || vault.Auth.SecretId is null))
        {
            errors.Add("Gateway:Vault:Auth:RoleId and :SecretId must be set (env: or file: references) for the approle method.");
        }

        if (method == VaultAuthMethod.Kubernetes && string.IsNullOrWhiteSpace(vault.Auth.Role))
        {
            errors.Add("Gateway:Vault:Auth:Role must name the Vault role for the kubernetes method.");
        }

        foreach (var (mount, options) in vault.Mounts)
        {
            if (options.Version is not (1 or 2))
            {
                errors.Add($"Gateway:Vault:Mounts:{mount}:Version must be 1 or 2 (was {options.Version}).");
            }
        }

        if (vault.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:Vault:Timeout must be positive (was {vault.Timeout}).");
        }

        return method;
    }

    /// <summary>Every fault of <c>Gateway:Aws</c>.</summary>
    public static void Validate(AwsOptions aws, List<string> errors)
    {
        if (aws.Region is { } region && !AwsSecretsManagerSource.IsKnownRegion(region))
        {
            errors.Add($"Gateway:Aws:Region '{region}' is not an AWS region (e.g. us-east-1, eu-west-1).");
        }

        foreach (var (name, endpoint) in new[] { ("SecretsManagerEndpoint", aws.SecretsManagerEndpoint), ("StsEndpoint", aws.StsEndpoint) })
        {
            if (endpoint is not null && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                errors.Add($"Gateway:Aws:{name} must be an absolute http(s) URL (was '{endpoint}').");
            }
        }

        if (aws.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:Aws:Timeout must be positive (was {aws.Timeout}).");
        }
    }
}
