namespace Gateway.Secrets;

/// <summary>Reads secrets by reference. Implementations pick up rotated values without a restart.</summary>
public interface ISecretStore
{
    /// <summary>The current value of the secret.</summary>
    ValueTask<SecretResult> GetAsync(SecretReference reference, CancellationToken cancellationToken);
}
