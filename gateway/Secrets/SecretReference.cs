namespace Gateway.Secrets;

/// <summary>
/// Where a secret lives: <c>env:NAME</c>, <c>file:/path</c>, <c>vault:mount/path#field</c> or
/// <c>aws-sm:secret-id[#field][@stage]</c>. The reference is not itself a secret.
/// </summary>
public abstract record SecretReference(string Text)
{
    public const string Forms = "env:NAME, file:/path, vault:mount/path#field or aws-sm:secret-id[#field][@stage]";

    public sealed override string ToString() => Text;

    /// <summary>Parses a reference, or explains what is wrong with it.</summary>
    public static bool TryParse(string? text, out SecretReference? reference, out string? error)
    {
        reference = null;
        error = null;
        var colon = text?.IndexOf(':') ?? -1;
        if (text is null || colon <= 0 || colon == text.Length - 1)
        {
            error = "is not a secret reference: write " + Forms;
            return false;
        }

        var rest = text[(colon + 1)..];
        switch (text[..colon])
        {
            case "env":
                reference = new EnvironmentSecretReference(text, rest);
                return true;
            case "file":
                reference = new FileSecretReference(text, rest);
                return true;
            case "vault":
                var hash = rest.IndexOf('#');
                var slash = rest.IndexOf('/');
                if (slash <= 0 || hash < slash + 2 || hash == rest.Length - 1)
                {
                    error = "is not a Vault reference: write vault:mount/path#field";
                    return false;
                }

                reference = new VaultSecretReference(text, rest[..slash], rest[(slash + 1)..hash], rest[(hash + 1)..]);
                return true;
            case "aws-sm":
                return AwsSecretsManagerReference.TryParse(text, rest, out reference, out error);
            default:
                error = $"has unknown scheme '{text[..colon]}': write " + Forms;
                return false;
        }
    }
}

/// <summary><c>env:NAME</c>: an environment variable of the gateway process.</summary>
public sealed record EnvironmentSecretReference(string Text, string Variable) : SecretReference(Text);

/// <summary><c>file:/path</c>: a file whose whole content (trimmed) is the secret, e.g. a mounted Kubernetes Secret.</summary>
public sealed record FileSecretReference(string Text, string Path) : SecretReference(Text);

/// <summary><c>vault:mount/path#field</c>: a field of a KV secret in Vault.</summary>
public sealed record VaultSecretReference(string Text, string Mount, string Path, string Field) : SecretReference(Text);

/// <summary>
/// <c>aws-sm:secret-id[#field][@stage]</c>: an AWS Secrets Manager secret (name or ARN), the whole secret string or one
/// field of it as JSON, at a version stage (<c>AWSCURRENT</c> unless named, e.g. <c>AWSPENDING</c> during a rotation).
/// </summary>
public sealed partial record AwsSecretsManagerReference(string Text, string SecretId, string? Field, string Stage) : SecretReference(Text)
{
    public const string CurrentStage = "AWSCURRENT";

    internal static bool TryParse(string text, string rest, out SecretReference? reference, out string? error)
    {
        reference = null;
        error = null;
        var stage = CurrentStage;
        var hash = rest.IndexOf('#');
        var at = rest.LastIndexOf('@');
        if (at > 0 && at > hash)
        {
            stage = rest[(at + 1)..];
            rest = rest[..at];
        }

        string? field = null;
        if (hash >= 0)
        {
            field = rest[(hash + 1)..];
            rest = rest[..hash];
        }

        if (rest.Length is 0 or > 2048 || field is { Length: 0 } || !StageName().IsMatch(stage))
        {
            error = "is not an AWS Secrets Manager reference: write aws-sm:secret-id (a name or an ARN), then optionally #field and @stage";
            return false;
        }

        reference = new AwsSecretsManagerReference(text, rest, field, stage);
        return true;
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_-]{1,256}$")]
    private static partial System.Text.RegularExpressions.Regex StageName();
}

/// <summary>The value of a secret, or why it could not be read (never containing the value).</summary>
public readonly record struct SecretResult(string? Value, string? Error)
{
    public static SecretResult Found(string value) => new(value, null);

    public static SecretResult Missing(string error) => new(null, error);
}
