using Gateway.Hosting;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Hosting;

public sealed class GatewaySettingsValidatorTests
{
    private const string Hash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    private static GatewaySettings? Load(Dictionary<string, string?> values, out List<string> errors)
        => GatewaySettingsMonitor.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), "Staging", Gateway.Transforms.Vendors.VendorCatalog.Default, out errors);

    [Test]
    public void Load_ValidSettings_AppliesDefaults()
    {
        var settings = Load(new()
        {
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Providers:azure-openai:Vendor"] = "openai",
            ["Gateway:Clients:team-a:KeySha256"] = Hash,
        }, out var errors);

        Assert.That(errors, Is.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(settings!.Environment, Is.EqualTo("staging"));
            Assert.That(settings.MaxRequestBodyBytes, Is.EqualTo(10 * 1024 * 1024));
            Assert.That(settings.DefaultActivityTimeout, Is.EqualTo(TimeSpan.FromMinutes(10)));
            Assert.That(settings.Providers["openai"].ApiKey.ToString(), Is.EqualTo("env:OPENAI_API_KEY"));
            Assert.That(settings.Providers["azure-openai"].ApiKey.ToString(), Is.EqualTo("env:AZURE_OPENAI_API_KEY"));
            Assert.That(settings.Providers["OpenAI"].Binding.Name, Is.EqualTo("openai"), "provider names are case-insensitive");
            Assert.That(settings.Clients.Single().Id, Is.EqualTo("team-a"));
            Assert.That(settings.Clients.Single().MayUseProvider("cohere"), Is.True, "no Providers list means all");
        });
    }

    [Test]
    public void Load_ManyFaults_ListsEveryError()
    {
        var settings = Load(new()
        {
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Providers:palm:Vendor"] = "palm",
            ["Gateway:Providers:cohere:ApiKey"] = "vault:secret#cohere",
            ["Gateway:Providers:anthropic:ApiKey"] = "ANTHROPIC_API_KEY",
            ["Gateway:Clients:team-a:KeySha256"] = "not-a-hash",
            ["Gateway:Clients:team-b:KeySha256"] = Hash,
            ["Gateway:Clients:team-b:Providers:0"] = "mistral",
            ["Gateway:Clients:team-c:KeySha256"] = Hash.ToUpperInvariant(),
            ["Gateway:Limits:MaxRequestBodyBytes"] = "0",
            ["Gateway:Forwarding:DefaultActivityTimeout"] = "-00:00:01",
        }, out var errors);

        Assert.That(settings, Is.Null);
        Assert.That(errors, Is.EquivalentTo(new[]
        {
            "Gateway:Providers:palm:Vendor 'palm' is not a known vendor (known: openai, anthropic, cohere).",
            "Gateway:Providers:cohere:ApiKey is not a Vault reference: write vault:mount/path#field.",
            "Gateway:Providers:anthropic:ApiKey is not a secret reference: write env:NAME, file:/path, vault:mount/path#field or aws-sm:secret-id[#field][@stage].",
            "Gateway:Clients:team-a:KeySha256 must be the 64-character hex SHA-256 of the client's key (run 'keys new --client team-a').",
            "Gateway:Clients:team-b:Providers names 'mistral', which is not under Gateway:Providers (known: openai).",
            "Gateway:Clients:team-c:KeySha256 is the same as Gateway:Clients:team-b:KeySha256: every client needs its own key, and each key is listed once.",
            "Gateway:Limits:MaxRequestBodyBytes must be greater than 0 (was 0).",
            "Gateway:Forwarding:DefaultActivityTimeout must be positive (was -00:00:01).",
        }));
    }

    [Test]
    public void Load_ClientsOwnVendorKeys_AreSecretReferencesOfKnownProviders_PolledWithTheOthers()
    {
        var values = new Dictionary<string, string?>
        {
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Clients:team-a:KeySha256"] = Hash,
            ["Gateway:Clients:team-a:ProviderKeys:openai"] = "vault:secret/teams/a#openai",
        };
        var settings = Load(values, out var errors);
        Assert.That(errors, Is.Empty);
        Assert.That(settings!.Clients.Single().ProviderKeys!["OpenAI"].ToString(), Is.EqualTo("vault:secret/teams/a#openai"));
        Assert.That(settings.SecretReferences.Select(r => r.ToString()), Is.EquivalentTo(new[] { "env:OPENAI_API_KEY", "vault:secret/teams/a#openai" }),
            "the poller and readiness see the client's key");

        values["Gateway:Clients:team-a:ProviderKeys:mistral"] = "env:MISTRAL_KEY";
        values["Gateway:Clients:team-a:ProviderKeys:openai"] = "TEAM_A_OPENAI_KEY";
        Assert.That(Load(values, out errors), Is.Null);
        Assert.That(errors, Is.EquivalentTo(new[]
        {
            "Gateway:Clients:team-a:ProviderKeys:mistral names 'mistral', which is not under Gateway:Providers (known: openai).",
            "Gateway:Clients:team-a:ProviderKeys:openai is not a secret reference: write env:NAME, file:/path, vault:mount/path#field or aws-sm:secret-id[#field][@stage].",
        }));
    }

    [Test]
    public void Load_AwsSettings_AreChecked_AndAwsSmReferencesParse()
    {
        var values = new Dictionary<string, string?>
        {
            ["Gateway:Providers:openai:ApiKey"] = "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:ai/openai-AbCdEf#api_key",
            ["Gateway:Providers:cohere:ApiKey"] = "aws-sm:ai/cohere#",
            ["Gateway:Aws:Region"] = "eu-west-9",
            ["Gateway:Aws:SecretsManagerEndpoint"] = "secretsmanager.local",
            ["Gateway:Aws:Timeout"] = "00:00:00",
        };
        Assert.That(Load(values, out var errors), Is.Null);
        Assert.That(errors, Is.EquivalentTo(new[]
        {
            "Gateway:Providers:cohere:ApiKey is not an AWS Secrets Manager reference: write aws-sm:secret-id (a name or an ARN), then optionally #field and @stage.",
            "Gateway:Aws:Region 'eu-west-9' is not an AWS region (e.g. us-east-1, eu-west-1).",
            "Gateway:Aws:SecretsManagerEndpoint must be an absolute http(s) URL (was 'secretsmanager.local').",
            "Gateway:Aws:Timeout must be positive (was 00:00:00).",
        }));

        values.Remove("Gateway:Providers:cohere:ApiKey");
        values["Gateway:Aws:Region"] = "eu-west-1";
        values["Gateway:Aws:SecretsManagerEndpoint"] = "http://127.0.0.1:4566";
        values["Gateway:Aws:Timeout"] = "00:00:02";
        Assert.That(Load(values, out errors)!.Providers["openai"].ApiKey, Is.InstanceOf<Gateway.Secrets.AwsSecretsManagerReference>(), string.Join("; ", errors));
    }

    [Test]
    public void Load_Modes_AreReadAsEnums_AndAMisspelledOneIsListedWithEveryOtherError()
    {
        var good = Load(new()
        {
            ["Gateway:Providers:openai:KeySelection"] = "Round-Robin",
            ["Gateway:Vault:Auth:Method"] = "kubernetes",
            ["Gateway:Vault:Auth:Role"] = "gateway",
            ["Gateway:RateLimiting:Clock"] = "local",
            ["Gateway:RateLimiting:Policies:p:Requests"] = "5",
            ["Gateway:RateLimiting:Policies:p:OnRedisFailure"] = "closed",
        }, out var none);
        Assert.That(none, Is.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(good!.Providers["openai"].KeySelection, Is.EqualTo(Gateway.Secrets.KeySelection.RoundRobin));
            Assert.That(good.VaultAuthMethod, Is.EqualTo(Gateway.Secrets.VaultAuthMethod.Kubernetes));
            Assert.That(good.LimiterClock, Is.EqualTo(Gateway.Limiting.LimiterClock.Local));
        });

        var settings = Load(new()
        {
            ["Gateway:Providers:openai:KeySelection"] = "roundrobin",
            ["Gateway:Vault:Auth:Method"] = "ldap",
            ["Gateway:RateLimiting:Clock"] = "ntp",
            ["Gateway:RateLimiting:Policies:p:Requests"] = "5",
            ["Gateway:RateLimiting:Policies:p:OnRedisFailure"] = "half-open",
            ["Gateway:Limits:MaxRequestBodyBytes"] = "0",
        }, out var errors);

        Assert.That(settings, Is.Null);
        Assert.That(errors, Is.EquivalentTo(new[]
        {
            "Gateway:Providers:openai:KeySelection must be one of 'failover', 'round-robin' (was 'roundrobin').",
            "Gateway:Vault:Auth:Method must be one of 'token', 'approle', 'kubernetes' (was 'ldap').",
            "Gateway:RateLimiting:Clock must be one of 'redis', 'local' (was 'ntp').",
            "Gateway:RateLimiting:Policies:p:OnRedisFailure must be one of 'open', 'closed' (was 'half-open').",
            "Gateway:Limits:MaxRequestBodyBytes must be greater than 0 (was 0).",
        }));
    }

    [Test]
    public void Load_ResilienceFaults_AreListedWithTheOthers_AndAProviderOfItsOwnReplacesTheDefaults()
    {
        var good = Load(new()
        {
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Resilience:Providers:openai:Retry:MaxRetries"] = "0",
        }, out var none);
        Assert.That(none, Is.Empty);
        Assert.That(good!.Resilience.RetryFor("openai").MaxRetries, Is.Zero);
        Assert.That(good.Resilience.RetryFor("anthropic").MaxRetries, Is.EqualTo(2), "the shipped default");

        Load(new()
        {
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Resilience:Retry:MaxRetries"] = "11",
            ["Gateway:Resilience:Retry:BaseDelay"] = "00:00:02",
            ["Gateway:Resilience:Retry:MaxDelay"] = "00:00:01",
            ["Gateway:Resilience:Retry:MaxRetryAfter"] = "01:00:00",
            ["Gateway:Resilience:Providers:mistral:Retry:MaxRetries"] = "1",
            ["Gateway:Limits:MaxRequestBodyBytes"] = "0",
        }, out var errors);

        Assert.That(errors, Is.EquivalentTo(new[]
        {
            "Gateway:Resilience:Retry:MaxRetries must be from 0 to 10 (was 11).",
            "Gateway:Resilience:Retry:BaseDelay must not be negative and :MaxDelay not below it (were 00:00:02 and 00:00:01).",
            "Gateway:Resilience:Retry:MaxRetryAfter must be from 0 to 00:10:00 (was 01:00:00).",
            "Gateway:Resilience:Providers:mistral names a provider that is not under Gateway:Providers (known: openai).",
            "Gateway:Limits:MaxRequestBodyBytes must be greater than 0 (was 0).",
        }));
    }

    [Test]
    public void Load_Fallbacks_ResolveToOtherProviders_AndEveryBadOneIsListed()
    {
        var good = Load(new()
        {
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Providers:anthropic:Vendor"] = "anthropic",
            ["Gateway:Providers:cohere:Vendor"] = "cohere",
            ["Gateway:Models:default:Provider"] = "openai",
            ["Gateway:Models:default:Model"] = "gpt-6-luna",
            ["Gateway:Models:default:Fallbacks:0"] = "fast",
            ["Gateway:Models:default:Fallbacks:1"] = "cohere/command-r-08-2024",
            ["Gateway:Models:fast:Provider"] = "anthropic",
            ["Gateway:Models:fast:Model"] = "claude-haiku-5-5",
            ["Gateway:Models:fast:Fallbacks:0"] = "default",
        }, out var none);
        Assert.That(none, Is.Empty);
        Assert.That(good!.Models["default"].Fallbacks.Select(f => $"{f.Provider.Binding.Name}/{f.ModelId}"),
            Is.EqualTo(new[] { "anthropic/claude-haiku-5-5", "cohere/command-r-08-2024" }));
        Assert.That(good.Models["default"].Fallbacks[0].Fallbacks, Is.Empty, "a fallback's own fallbacks are not followed");

        Load(new()
        {
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Models:default:Provider"] = "openai",
            ["Gateway:Models:default:Model"] = "gpt-6-luna",
            ["Gateway:Models:default:Fallbacks:0"] = "openai/gpt-6-mini",
            ["Gateway:Models:default:Fallbacks:1"] = "mistral/large",
            ["Gateway:Models:default:Fallbacks:2"] = "fastest",
        }, out var errors);
        Assert.That(errors, Is.EquivalentTo(new[]
        {
            "Gateway:Models:default:Fallbacks: 'openai/gpt-6-mini' is served by the alias's own provider 'openai', whose breaker it would share.",
            "Gateway:Models:default:Fallbacks: 'mistral/large' is neither an alias (known: default) nor provider/model of a configured provider.",
            "Gateway:Models:default:Fallbacks: 'fastest' is neither an alias (known: default) nor provider/model of a configured provider.",
        }));
    }

    [Test]
    public void Load_SwitchesAndKillSwitches_NamingUnknownFlagsOrTargets_AreErrors_NotSilentNoOps()
    {
        Load(new()
        {
            ["FeatureManagement:to-anthropic"] = "false",
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Providers:openai:OffFlag"] = "openai-off",
            ["Gateway:Models:default:Provider"] = "openai",
            ["Gateway:Models:default:Model"] = "gpt-6-luna",
            ["Gateway:Models:default:Switches:0:Flag"] = "to-anthropic",
            ["Gateway:Models:default:Switches:0:To"] = "anthropic/claude-haiku-5-5",
            ["Gateway:Models:default:Switches:1:Flag"] = "to-cohere",
            ["Gateway:Models:default:Switches:1:To"] = "default",
        }, out var errors);

        Assert.That(errors, Is.EquivalentTo(new[]
        {
            "Gateway:Providers:openai:OffFlag names flag 'openai-off', which is not defined under FeatureManagement.",
            "Gateway:Models:default:Switches:0:To 'anthropic/claude-haiku-5-5' is neither an alias (known: default) nor provider/model of a configured provider.",
            "Gateway:Models:default:Switches:1:Flag 'to-cohere' is not a flag defined under FeatureManagement.",
        }));
    }

    [Test]
    public void Load_WrongType_IsAnErrorNotAnException()
    {
        var settings = Load(new() { ["Gateway:Limits:MaxRequestBodyBytes"] = "ten" }, out var errors);
        Assert.That(settings, Is.Null);
        Assert.That(errors.Single(), Does.Contain("MaxRequestBodyBytes"));
    }

    [Test]
    public void Load_ModelRequestFields_AreJsonValues_AndTheGatewaysOwnFieldsAreRefused()
    {
        var settings = Load(new()
        {
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Models:default:Provider"] = "openai",
            ["Gateway:Models:default:Model"] = "gpt-6-luna",
            ["Gateway:Models:default:RequestFields:reasoning_effort"] = "none",
            ["Gateway:Models:default:RequestFields:top_p"] = "0.9",
            ["Gateway:Models:default:RequestFields:store"] = "false",
        }, out var errors);

        Assert.That(errors, Is.Empty);
        Assert.That(settings!.Models["default"].RequestFields, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["reasoning_effort"] = "\"none\"", ["top_p"] = "0.9", ["store"] = "false",
        }));

        Load(new()
        {
            ["Gateway:Providers:openai:Vendor"] = "openai",
            ["Gateway:Models:default:Provider"] = "openai",
            ["Gateway:Models:default:Model"] = "gpt-6-luna",
            ["Gateway:Models:default:RequestFields:messages"] = "[]",
        }, out errors);
        Assert.That(errors, Has.One.StartsWith("Gateway:Models:default:RequestFields:messages: the gateway writes 'messages' itself"));
    }
}
