namespace Gateway.Secrets;

/// <summary>Where a secret lives: <c>env:NAME</c>, <c>file:/path</c> or <c>vault:mount/path#field</c>. The reference is not itself a secret.</summary>
public abstract record SecretReference(string Text)
{
    public sealed override string ToString() => Text;

    /// <summary>Parses a reference, or explains what is wrong with it.</summary>
    public static bool TryParse(string? text, out SecretReference? reference, out string? error)
    {
        reference = null;
        error = null;
        var colon = text?.IndexOf(':') ?? -1;
        if (text is null || colon <= 0 || colon == text.Length - 1)
        {
            error = "is not a secret reference: write env:NAME, file:/path or vault:mount/path#field";
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
            default:
                error = $"has unknown scheme '{text[..colon]}': write env:NAME, file:/path or vault:mount/path#field";
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

/// <summary>The value of a secret, or why it could not be read (never containing the value).</summary>
public readonly record struct SecretResult(string? Value, string? Error)
{
    public static SecretResult Found(string value) => new(value, null);

    public static SecretResult Missing(string error) => new(null, error);
}
