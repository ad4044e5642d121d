namespace Gateway.Hosting;

/// <summary>The <c>Gateway</c> configuration section, as the platform team writes it in config/.</summary>
public sealed record GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Name reported in errors and telemetry. Default "AI Integration Gateway".</summary>
    public string ServiceName { get; init; } = "AI Integration Gateway";

    /// <summary>Environment reported in errors (staging, production…). Default: the host environment name, lowercased.</summary>
    public string? Environment { get; init; }

    /// <summary>Folder of the configuration files; read once at start-up. Default: config/ next to the content root.</summary>
    public string? ConfigDirectory { get; init; }

    public LimitsOptions Limits { get; init; } = new();

    public ForwardingOptions Forwarding { get; init; } = new();

    public SecretsOptions Secrets { get; init; } = new();

    public VaultOptions Vault { get; init; } = new();

    /// <summary>Vendor providers by name; a YARP cluster of the same name (or with Metadata Provider) is served by it.</summary>
    public Dictionary<string, ProviderOptions> Providers { get; init; } = [];

    /// <summary>Gateway clients by id.</summary>
    public Dictionary<string, ClientOptions> Clients { get; init; } = [];

    /// <summary>Model aliases (<c>default</c>, <c>fast</c>, …) of the normalized endpoints. <c>default</c> is required.</summary>
    public Dictionary<string, ModelOptions> Models { get; init; } = [];

    /// <summary>Prices by vendor model id, for <c>cost_usd</c> and budgets.</summary>
    public Dictionary<string, PriceOptions> Prices { get; init; } = [];

    /// <summary>Prompt templates of the normalized endpoints.</summary>
    public PromptOptions Prompts { get; init; } = new();

    /// <summary>Defaults of the normalized endpoints.</summary>
    public TaskOptions Tasks { get; init; } = new();

    /// <summary>Rate-limit policies and the limiter's behaviour.</summary>
    public Gateway.Limiting.RateLimitingOptions RateLimiting { get; init; } = new();
}

/// <summary>A model alias: which provider serves it and under which vendor model id.</summary>
public sealed record ModelOptions
{
    /// <summary>A key of <c>Gateway:Providers</c>.</summary>
    public string? Provider { get; init; }

    /// <summary>The vendor's model id, e.g. <c>gpt-6-luna</c>.</summary>
    public string? Model { get; init; }

    /// <summary>
    /// Whether the model takes a sampling temperature. Default true; false leaves a request's <c>temperature</c> out
    /// (models that answer 400 to any non-default sampling parameter).
    /// </summary>
    public bool AcceptsTemperature { get; init; } = true;

    /// <summary>
    /// Vendor-specific fields added to every request for the alias, e.g. <c>reasoning_effort: none</c>; a value that
    /// reads as a JSON number, <c>true</c>, <c>false</c> or <c>null</c> is sent as such, anything else as a string.
    /// </summary>
    public Dictionary<string, string> RequestFields { get; init; } = [];
}

/// <summary>A model's price.</summary>
public sealed record PriceOptions
{
    /// <summary>USD per million input tokens.</summary>
    public decimal InputPerMillionUsd { get; init; }

    /// <summary>USD per million output tokens.</summary>
    public decimal OutputPerMillionUsd { get; init; }
}

/// <summary>Prompt templates.</summary>
public sealed record PromptOptions
{
    public const string DefaultSummarizeInstruction = "Summarize the following text concisely, keeping every request, decision and date it contains.";

    /// <summary>The instruction of a summarize call whose request has no <c>prompt</c>.</summary>
    public string SummarizeInstruction { get; init; } = DefaultSummarizeInstruction;

    /// <summary>System instructions added per output format (<c>text</c>, <c>markdown</c>, <c>json</c>); defaults in <see cref="DefaultFormats"/>.</summary>
    public Dictionary<string, string> Formats { get; init; } = [];

    /// <summary>The instructions used for a format that <see cref="Formats"/> does not set.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultFormats = new Dictionary<string, string>
    {
        ["text"] = "Answer in plain text, without Markdown formatting.",
        ["markdown"] = "Format the answer in Markdown.",
        ["json"] = "Answer with a single valid JSON value and nothing else: no prose, no code fences.",
    };
}

/// <summary>Defaults of the normalized endpoints.</summary>
public sealed record TaskOptions
{
    /// <summary>max_tokens sent to the vendor when the request names none. Default 1024.</summary>
    public int DefaultMaxTokens { get; init; } = 1024;
}

/// <summary>Request limits.</summary>
public sealed record LimitsOptions
{
    /// <summary>Largest request body accepted, in bytes. Default 10 MiB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 10 * 1024 * 1024;
}

/// <summary>Forwarding defaults applied to every cluster that does not set its own.</summary>
public sealed record ForwardingOptions
{
    /// <summary>
    /// How long a vendor call may stay silent (no headers, no body bytes) before it is cut with 504 vendor_timeout.
    /// Default 10 minutes: a long non-streamed generation sends nothing until it is done.
    /// </summary>
    public TimeSpan DefaultActivityTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Whether a ReverseProxy change that leaves no route at all is applied. Default false: such a change (an emptied
    /// file, a deleted section) is refused, because it would take the whole gateway down.
    /// </summary>
    public bool AllowNoRoutes { get; init; }
}

/// <summary>Secret store settings.</summary>
public sealed record SecretsOptions
{
    /// <summary>How often every referenced secret (Vault, files, environment) is read again, so rotations arrive without a restart. Default 30 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Random spread of each poll, as a fraction of the interval, so replicas do not read Vault in step. Default 0.1.</summary>
    public double Jitter { get; init; } = 0.1;

    /// <summary>Least time between two forced re-reads of one secret (after a vendor 401). Default 5 s.</summary>
    public TimeSpan MinRefreshInterval { get; init; } = TimeSpan.FromSeconds(5);
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
    /// <summary><c>token</c> (default), <c>approle</c> or <c>kubernetes</c>.</summary>
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

/// <summary>One vendor provider.</summary>
public sealed record ProviderOptions
{
    /// <summary>The vendor API it speaks (openai, anthropic, cohere). Default: the provider's name.</summary>
    public string? Vendor { get; init; }

    /// <summary>A secret reference (<c>env:NAME</c>, <c>file:/path</c>, <c>vault:mount/path#field</c>). Default <c>env:{NAME}_API_KEY</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Several keys (references), e.g. the old and the new during a rotation; replaces <see cref="ApiKey"/>.</summary>
    public string[]? ApiKeys { get; init; }

    /// <summary>With several keys: <c>failover</c> (default: the first that works) or <c>round-robin</c>.</summary>
    public string KeySelection { get; init; } = "failover";

    /// <summary>Headers sent on every call to this provider, e.g. <c>OpenAI-Organization</c> and <c>OpenAI-Project</c>.</summary>
    public Dictionary<string, string> Headers { get; init; } = [];
}

/// <summary>One gateway client (a calling app or team).</summary>
public sealed record ClientOptions
{
    /// <summary>Lowercase hex SHA-256 of the client's key; never the key itself.</summary>
    public string? KeySha256 { get; init; }

    /// <summary>Providers the client may use; absent means all.</summary>
    public string[]? Providers { get; init; }

    /// <summary>Route ids the client may use; absent means all.</summary>
    public string[]? Routes { get; init; }

    /// <summary>The policy (under <c>Gateway:RateLimiting:Policies</c>) limiting the client as a whole.</summary>
    public string? RateLimitPolicy { get; init; }

    /// <summary>A policy applied per client × model (normalized routes) or × provider (passthrough routes).</summary>
    public string? ModelRateLimitPolicy { get; init; }

    /// <summary>A policy applied per client × end user (the <c>user</c> field, or the user header on passthrough routes).</summary>
    public string? UserRateLimitPolicy { get; init; }

    /// <summary>Cost cap in USD per UTC day, from the price table; absent means none.</summary>
    public decimal? DailyBudgetUsd { get; init; }

    /// <summary>Cost cap in USD per UTC day of each end user (the <c>user</c> field or the user header); absent means none.</summary>
    public decimal? UserDailyBudgetUsd { get; init; }

    /// <summary>Cost cap in USD per UTC day of each session (the session header); absent means none.</summary>
    public decimal? SessionDailyBudgetUsd { get; init; }

    /// <summary>Per provider, headers sent on this client's calls in place of the provider's (e.g. its own <c>OpenAI-Project</c>).</summary>
    public Dictionary<string, Dictionary<string, string>> ProviderHeaders { get; init; } = [];
}
