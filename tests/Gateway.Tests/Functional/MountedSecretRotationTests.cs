using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// A key mounted the way Kubernetes mounts a Secret (and Vault Agent / the CSI driver render files): the file is a link
/// through <c>..data</c>, and a rotation swaps <c>..data</c> to a new folder in one rename.
/// </summary>
public sealed partial class MountedSecretRotationTests
{
    // File.Move refuses a link to a folder; the kubelet's atomic writer uses rename(2) directly, and so does this test.
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "rename", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int Rename(string oldPath, string newPath);

    [Test]
    public async Task KubernetesStyleAtomicSwap_IsPickedUpWithoutRestartOrPoll()
    {
        var mount = Directory.CreateTempSubdirectory("mounted-secret-").FullName;
        void Version(string name, string key)
        {
            Directory.CreateDirectory(Path.Combine(mount, name));
            File.WriteAllText(Path.Combine(mount, name, "openai"), key);
        }

        Version("..2026_11_27_v1", "sk-proj-mounted-first-000000001");
        File.CreateSymbolicLink(Path.Combine(mount, "..data"), "..2026_11_27_v1");
        File.CreateSymbolicLink(Path.Combine(mount, "openai"), "..data/openai");

        using var vendors = new FakeVendors();
        vendors.OpenAi.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
        await using var gateway = await GatewayHost.StartAsync(vendors.Addresses, editOverrides: o =>
        {
            o["Gateway"]!["Providers"]!["openai"]!["ApiKey"] = "file:" + Path.Combine(mount, "openai");
            o["Gateway"]!["Secrets"] = new JsonObject { ["PollInterval"] = "01:00:00" };
        });

        async Task<string> KeySentAsync()
        {
            using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            return vendors.OpenAi.LogEntries.Last().RequestMessage!.Headers!["Authorization"].Single();
        }

        Assert.That(await KeySentAsync(), Is.EqualTo("Bearer sk-proj-mounted-first-000000001"));

        // What the kubelet does: write the new version, point a new link at it, rename the link over ..data.
        Version("..2026_11_27_v2", "sk-proj-mounted-second-00000002");
        File.CreateSymbolicLink(Path.Combine(mount, "..data_tmp"), "..2026_11_27_v2");
        Assert.That(Rename(Path.Combine(mount, "..data_tmp"), Path.Combine(mount, "..data")), Is.Zero, "rename(2) of the link");

        try
        {
            await GatewayHost.WaitUntilAsync(async () => await KeySentAsync() == "Bearer sk-proj-mounted-second-00000002", "the swapped key is used");
        }
        finally
        {
            foreach (var entry in gateway.Logs.Entries.Where(e => e.Contains("Secret", StringComparison.Ordinal) || e.Contains("Watch", StringComparison.Ordinal)))
            {
                TestContext.Out.WriteLine(entry);
            }
        }

        Directory.Delete(mount, recursive: true);
    }
}
