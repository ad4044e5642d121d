using Gateway.Auth;
using Gateway.Limiting;
using Gateway.Resilience;
using Gateway.Routing;
using Gateway.Secrets;

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

    /// <summary>AWS, for <c>aws-sm:</c> references: region, endpoints, timeout.</summary>
    public AwsOptions Aws { get; init; } = new();

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

    /// <summary>How long the escalation blocks of requests answered with a problem are kept for <c>requests show</c>.</summary>
    public Gateway.Errors.EscalationOptions Escalation { get; init; } = new();

    /// <summary>The operations API (<c>/admin/*</c>): off unless a key hash is set.</summary>
    public Gateway.Errors.AdminOptions Admin { get; init; } = new();

    /// <summary>The access log: where its lines go (Gateway.Telemetry).</summary>
    public Gateway.Telemetry.AccessLogOptions AccessLog { get; init; } = new();

    /// <summary>Prompt logging: off, metadata or sanitized, per route and client (Gateway.Telemetry).</summary>
    public Gateway.Telemetry.PromptLoggingOptions PromptLogging { get; init; } = new();

    /// <summary>Defaults of the normalized endpoints.</summary>
    public TaskOptions Tasks { get; init; } = new();

    /// <summary>Retries of vendor calls.</summary>
    public ResilienceOptions Resilience { get; init; } = new();

    /// <summary>Rate-limit policies and the limiter's behaviour.</summary>
    public RateLimitingOptions RateLimiting { get; init; } = new();

    /// <summary>How the gateway stops on SIGTERM (read at start).</summary>
    public ShutdownOptions Shutdown { get; init; } = new();
}
