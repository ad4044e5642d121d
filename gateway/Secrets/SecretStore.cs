using System.Collections.Concurrent;
using Gateway.Hosting;

namespace Gateway.Secrets;

/// <summary>
/// Resolves <c>env:</c> and <c>file:</c> references. Files are re-read after
/// <see cref="SecretsOptions.FileRefreshInterval"/>, so a rotated mounted secret is picked up without a restart.
/// </summary>
internal sealed class SecretStore(GatewaySettingsMonitor settings, TimeProvider time) : ISecretStore
{
    private readonly ConcurrentDictionary<string, CachedFile> _files = new(StringComparer.Ordinal);

    public ValueTask<SecretResult> GetAsync(SecretReference reference, CancellationToken cancellationToken) => reference switch
    {
        EnvironmentSecretReference env => ValueTask.FromResult(ReadEnvironment(env)),
        FileSecretReference file => ReadFileAsync(file, cancellationToken),
        _ => ValueTask.FromResult(SecretResult.Missing($"{reference} is not supported")),
    };

    private static SecretResult ReadEnvironment(EnvironmentSecretReference reference)
    {
        var value = Environment.GetEnvironmentVariable(reference.Variable);
        return string.IsNullOrWhiteSpace(value)
            ? SecretResult.Missing($"environment variable {reference.Variable} is not set")
            : SecretResult.Found(value.Trim());
    }

    private async ValueTask<SecretResult> ReadFileAsync(FileSecretReference reference, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_files.TryGetValue(reference.Path, out var cached) && now - cached.ReadAt < settings.Current.FileRefreshInterval)
        {
            return cached.Result;
        }

        SecretResult result;
        try
        {
            var text = (await File.ReadAllTextAsync(reference.Path, cancellationToken)).Trim();
            result = text.Length == 0 ? SecretResult.Missing($"file {reference.Path} is empty") : SecretResult.Found(text);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The last good value keeps serving through a failed re-read (e.g. mid-rotation of a mounted secret).
            if (cached.Result.Value is not null)
            {
                return cached.Result;
            }

            result = SecretResult.Missing($"file {reference.Path} cannot be read ({ex.GetType().Name})");
        }

        _files[reference.Path] = new CachedFile(result, now);
        return result;
    }

    private readonly record struct CachedFile(SecretResult Result, DateTimeOffset ReadAt);
}
