using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>Vendor keys come from the secret store; a missing one is a clear problem, never a call without a key.</summary>
public sealed class VendorKeyTests : GatewayFixture
{
    private readonly string _unsetVariable = "GWTEST_UNSET_" + Guid.NewGuid().ToString("N");

    protected override void EditOverrides(JsonObject overrides)
    {
        overrides["Gateway"]!["Providers"]!["cohere"]!["ApiKey"] = "env:" + _unsetVariable;
        // Polls far apart: a rotated file must arrive through the file watcher.
        overrides["Gateway"]!["Secrets"] = new JsonObject { ["PollInterval"] = "01:00:00" };
    }

    [OneTimeSetUp]
    public void VendorsAnswer()
    {
        foreach (var vendor in VendorCase.All)
        {
            Vendors[vendor.Vendor].Given(Request.Create().UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
        }
    }

    [Test]
    public async Task MissingVendorKey_Is503VendorKeyMissing_NamingTheSetting_AndVendorIsNotCalled()
    {
        var cohere = VendorCase.Cohere;
        using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, cohere.GatewayPath, Gateway.ClientKeys["team-a"], cohere.RequestBody));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable, "vendor_key_missing", "POST " + cohere.GatewayPath);
        Assert.That(problem.GetProperty("detail").GetString(), Does.Contain("Gateway:Providers:cohere:ApiKey").And.Contain(_unsetVariable));
        Assert.That(Vendors.Cohere.LogEntries, Is.Empty);
    }

    [Test]
    public async Task RotatedKeyFile_IsPickedUpByTheWatcher_WithoutRestartOrPoll()
    {
        var anthropic = VendorCase.Anthropic;
        var rotated = "sk-ant-api03-rotated-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(Path.Combine(Gateway.ConfigDirectory, "anthropic.key"), rotated);
        Vendors.Anthropic.ResetLogEntries();

        // The watcher sees the file change and reads it again; the next request after that uses the new key.
        await GatewayHost.WaitUntilAsync(async () =>
        {
            using var response = await Gateway.Client.SendAsync(Gateway.Request(HttpMethod.Post, anthropic.GatewayPath, Gateway.ClientKeys["team-a"], anthropic.RequestBody));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            return Vendors.Anthropic.LogEntries.Last().RequestMessage!.Headers!["x-api-key"].Single() == rotated;
        }, "the rotated file key is used");
    }
}
