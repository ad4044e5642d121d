namespace Gateway.Secrets;

/// <summary>Secret store settings.</summary>
public sealed record SecretsOptions
{
    /// <summary>How often every referenced secret (Vault, files, environment) is read again, so rotations arrive without a restart. Default 30 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Random spread of each poll, as a fraction of the interval, so replicas do not read Vault in step. Default 0.1.</summary>
    public double Jitter { get; init; } = 0.1;

    /// <summary>Least time between two forced re-reads of one secret (after a vendor 401). Default 5 s.</summary>
    public TimeSpan MinRefreshInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Readiness waits for every referenced secret (503 while any is unresolved). Default false: ready once at least one
    /// provider has a key, Degraded naming the providers still without one.
    /// </summary>
    public bool StrictReadiness { get; init; }
}

/// <summary>HashiCorp Vault, reached through its HTTP API.</summary>
public sealed record VaultOptions
{
    /// <summary>Vault's address. Default: the VAULT_ADDR environment variable.</summary>
    public string? Address { get; init; }

    /// <summary>Vault Enterprise namespace, sent as X-Vault-Namespace. Default: VAULT_NAMESPACE.</summary>
    public string? Namespace { get; init; }

    /// <summary>For the token method: a secret reference to the token. Default <c>env:VAULT_TOKEN</c>.</summary>
    public string Token { get; init; } = "env:VAULT_TOKEN";

    /// <summary>How long one Vault call may take. Default 5 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    public VaultAuthOptions Auth { get; init; } = new();

    /// <summary>Per secrets-engine mount: <c>Version</c> 1 or 2 (KV v2 is the default).</summary>
    public Dictionary<string, VaultMountOptions> Mounts { get; init; } = [];
}

/// <summary>How the gateway logs in to Vault.</summary>
public sealed record VaultAuthOptions
{
    /// <summary><c>token</c> (default), <c>approle</c> or <c>kubernetes</c> (see <see cref="VaultAuthMethod"/>).</summary>
    public string Method { get; init; } = "token";

    /// <summary>The auth mount. Default: the method's name.</summary>
    public string? Mount { get; init; }

    /// <summary>AppRole: secret references to the role_id and secret_id.</summary>
    public string? RoleId { get; init; }

    public string? SecretId { get; init; }

    /// <summary>Kubernetes: the Vault role.</summary>
    public string? Role { get; init; }

    /// <summary>Kubernetes: the projected service-account token, read again at every login.</summary>
    public string JwtPath { get; init; } = "/var/run/secrets/kubernetes.io/serviceaccount/token";
}

/// <summary>A KV secrets-engine mount.</summary>
public sealed record VaultMountOptions
{
    public int Version { get; init; } = 2;
}

/// <summary>How the gateway logs in to Vault (<c>Gateway:Vault:Auth:Method</c>).</summary>
public enum VaultAuthMethod
{
    /// <summary>A token given by reference (<c>Gateway:Vault:Token</c>).</summary>
    Token,

    /// <summary>AppRole: role_id and secret_id by reference.</summary>
    Approle,

    /// <summary>Kubernetes: the pod's projected service-account token.</summary>
    Kubernetes,
}

/// <summary>Which of a provider's keys a call uses (<c>Gateway:Providers:{name}:KeySelection</c>).</summary>
public enum KeySelection
{
    /// <summary>The first key that works (<c>failover</c>).</summary>
    Failover,

    /// <summary>The keys in turn (<c>round-robin</c>).</summary>
    RoundRobin,
}
