namespace Gateway.Secrets;

/// <summary>A secret's value as read, with the version it had (KV v2 version, file time…), for change detection and logs.</summary>
public readonly record struct SecretFetch(string Value, string Version);

/// <summary>A secret could not be read. The message names the reference and the cause, never a value.</summary>
public sealed class SecretUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Reads one kind of secret reference.</summary>
public interface ISecretSource
{
    bool Handles(SecretReference reference);

    /// <summary>Reads the current value; throws <see cref="SecretUnavailableException"/> when it cannot.</summary>
    Task<SecretFetch> FetchAsync(SecretReference reference, CancellationToken cancellationToken);
}

/// <summary><c>env:NAME</c>.</summary>
internal sealed class EnvironmentSecretSource : ISecretSource
{
    public bool Handles(SecretReference reference) => reference is EnvironmentSecretReference;

    public Task<SecretFetch> FetchAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        var variable = ((EnvironmentSecretReference)reference).Variable;
        var value = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(value)
            ? throw new SecretUnavailableException($"environment variable {variable} is not set")
            : Task.FromResult(new SecretFetch(value.Trim(), "env"));
    }
}

/// <summary><c>file:/path</c>: the whole file, trimmed — a mounted Kubernetes Secret, or a file Vault Agent or the CSI driver renders.</summary>
internal sealed class FileSecretSource : ISecretSource
{
    public bool Handles(SecretReference reference) => reference is FileSecretReference;

    public async Task<SecretFetch> FetchAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        var path = ((FileSecretReference)reference).Path;
        string text;
        try
        {
            text = (await File.ReadAllTextAsync(path, cancellationToken)).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SecretUnavailableException($"file {path} cannot be read ({ex.GetType().Name})");
        }

        return text.Length == 0
            ? throw new SecretUnavailableException($"file {path} is empty")
            : new SecretFetch(text, File.GetLastWriteTimeUtc(path).Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
