using System.Reflection;
using System.Text.RegularExpressions;
using Gateway.Hosting;
using Gateway.Transforms.Contracts;
using Mono.Cecil;
using Mono.Cecil.Cil;
using NetArchTest.Rules;

namespace Gateway.Tests.Architecture;

/// <summary>
/// Who may know what (DESIGN.md, "dependency rules"): the transforms library never references the host; Limiting, Auth,
/// Secrets and Telemetry use nothing of the library but its shared contracts; only Vendors/ knows a vendor — its types,
/// its API paths and headers. The namespace lists are read from the assemblies, so a new folder is covered as it lands.
/// </summary>
public sealed partial class DependencyRulesTests
{
    private const string ContractsNamespace = "Gateway.Transforms.Contracts";
    private const string VendorsNamespace = "Gateway.Transforms.Vendors";

    private static readonly Assembly Host = typeof(GatewayApp).Assembly;
    private static readonly Assembly Library = typeof(CallRecord).Assembly;

    /// <summary>The parts of the host that must know nothing of vendors or tasks.</summary>
    private static readonly string[] VendorNeutralFeatures = ["Gateway.Limiting", "Gateway.Auth", "Gateway.Secrets", "Gateway.Telemetry", "Gateway.Resilience"];

    [Test]
    public void TransformsLibrary_NeverReferencesTheHost()
    {
        Assert.That(Library.GetReferencedAssemblies().Select(a => a.Name), Does.Not.Contain(Host.GetName().Name));
        // The host's own namespaces (not those the compiler generates into it, such as the regex generator's).
        var hostNamespaces = NamespacesOf(Host).Where(n => n.StartsWith("Gateway.", StringComparison.Ordinal)).ToArray();
        Assert.That(hostNamespaces, Is.Not.Empty);
        var result = Types.InAssembly(Library).ShouldNot().HaveDependencyOnAny(hostNamespaces).GetResult();
        Assert.That(Failing(result), Is.Empty, "library types that use the host");
    }

    [TestCaseSource(nameof(VendorNeutralFeatures))]
    public void Feature_UsesOnlyTheSharedContractsOfTheLibrary(string feature)
    {
        // Every namespace of the library but the contracts, and the types of its root namespace (a namespace name would
        // also cover the contracts below it).
        var forbidden = NamespacesOf(Library)
            .Where(n => n.StartsWith("Gateway.Transforms.", StringComparison.Ordinal) && n != ContractsNamespace)
            .Concat(Library.GetTypes().Where(t => t.Namespace == "Gateway.Transforms" && !t.Name.StartsWith('<')).Select(t => t.FullName!))
            .ToArray();
        Assert.That(forbidden, Does.Contain("Gateway.Transforms.Vendors").And.Contain("Gateway.Transforms.Tasks"));

        var types = Types.InAssembly(Host).That().ResideInNamespaceMatching($@"^{Regex.Escape(feature)}(\.|$)");
        Assert.That(types.GetTypes(), Is.Not.Empty, $"no type in {feature}");
        var result = types.ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.That(Failing(result), Is.Empty, $"{feature} types that use the library beyond {ContractsNamespace}");
    }

    [Test]
    public void OnlyVendors_UseAVendorsTypes()
    {
        var vendorFolders = NamespacesOf(Library).Where(n => n.StartsWith(VendorsNamespace + ".", StringComparison.Ordinal)).ToArray();
        Assert.That(vendorFolders, Does.Contain("Gateway.Transforms.Vendors.OpenAi"));
        var result = Types.InAssemblies([Host, Library]).That().DoNotResideInNamespaceMatching($@"^{Regex.Escape(VendorsNamespace)}(\.|$)")
            .ShouldNot().HaveDependencyOnAny(vendorFolders).GetResult();
        Assert.That(Failing(result), Is.Empty, "types outside Vendors/ that use a vendor's own types");
    }

    [Test]
    public void OnlyVendors_WriteAVendorsPathsOrHeaders()
    {
        var found = new List<string>();
        foreach (var assembly in new[] { Host, Library })
        {
            using var module = ModuleDefinition.ReadModule(assembly.Location);
            foreach (var type in module.GetTypes())
            {
                var top = type;
                while (top.DeclaringType is not null)
                {
                    top = top.DeclaringType;
                }

                if (top.Namespace.StartsWith(VendorsNamespace, StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (var method in type.Methods.Where(m => m.HasBody))
                {
                    foreach (var instruction in method.Body.Instructions)
                    {
                        if (instruction.OpCode == OpCodes.Ldstr && instruction.Operand is string text && VendorMarker().IsMatch(text))
                        {
                            found.Add($"{top.FullName}.{method.Name}: \"{text}\"");
                        }
                    }
                }
            }
        }

        Assert.That(found, Is.Empty, "vendor API paths or headers written outside Vendors/");
    }

    [Test]
    public void VendorMarker_RecognisesWhatItGuards()
    {
        // The scan above finds nothing today; this shows it would find what it looks for.
        Assert.Multiple(() =>
        {
            Assert.That(VendorMarker().IsMatch("/v1/chat/completions"), Is.True);
            Assert.That(VendorMarker().IsMatch("/v1/messages"), Is.True);
            Assert.That(VendorMarker().IsMatch("/v2/embed"), Is.True);
            Assert.That(VendorMarker().IsMatch("anthropic-version"), Is.True);
            Assert.That(VendorMarker().IsMatch("/v1/ai/generate"), Is.False);
        });
    }

    private static string[] NamespacesOf(Assembly assembly)
        => [.. assembly.GetTypes().Select(t => t.Namespace).OfType<string>().Distinct()];

    private static string[] Failing(TestResult result)
        => result.IsSuccessful ? [] : [.. (result.FailingTypes ?? []).Select(t => t.FullName)];

    // Vendor API paths (chat, messages, responses, completions, embeddings; Cohere's v2) and vendor-only headers.
    [GeneratedRegex(@"/chat/completions|/v1/(messages|responses|completions|embeddings)\b|/v2/(chat|embed)\b|\banthropic-(version|beta)\b|\bopenai-(organization|project)\b|x-stainless", RegexOptions.IgnoreCase)]
    private static partial Regex VendorMarker();
}
