namespace Gateway.Secrets;

/// <summary><c>vault:mount/path#field</c>: a field of a KV secret, read by <see cref="VaultClient"/>.</summary>
internal sealed class VaultSecretSource(VaultClient vault) : ISecretSource
{
    public bool Handles(SecretReference reference) => reference is VaultSecretReference;

    public Task<SecretFetch> FetchAsync(SecretReference reference, CancellationToken cancellationToken)
        => vault.ReadAsync((VaultSecretReference)reference, cancellationToken);
}
