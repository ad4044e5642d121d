using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Gateway.Tests.Infrastructure;

/// <summary>One WireMock server per vendor, standing in for the vendors' public API hosts.</summary>
public sealed class FakeVendors : IDisposable
{
    public WireMockServer OpenAi { get; } = WireMockServer.Start();

    public WireMockServer Anthropic { get; } = WireMockServer.Start();

    public WireMockServer Cohere { get; } = WireMockServer.Start();

    /// <summary>Cluster name to fake address, for <see cref="GatewayHost.StartAsync"/>.</summary>
    public IReadOnlyDictionary<string, string> Addresses => new Dictionary<string, string>
    {
        ["openai"] = OpenAi.Url! + "/",
        ["anthropic"] = Anthropic.Url! + "/",
        ["cohere"] = Cohere.Url! + "/",
    };

    public WireMockServer this[string vendor] => vendor switch
    {
        "openai" => OpenAi,
        "anthropic" => Anthropic,
        "cohere" => Cohere,
        _ => throw new ArgumentOutOfRangeException(nameof(vendor), vendor, null),
    };

    /// <summary>Every vendor answers its chat endpoint with its documented JSON answer (at <paramref name="priority"/>, so a test can put faults above it).</summary>
    public void AnswerEveryChatCall(int priority = 10)
    {
        foreach (var vendor in VendorCase.All)
        {
            this[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).UsingPost()).AtPriority(priority)
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
        }
    }

    public void Reset()
    {
        OpenAi.Reset();
        Anthropic.Reset();
        Cohere.Reset();
    }

    public void Dispose()
    {
        OpenAi.Stop();
        Anthropic.Stop();
        Cohere.Stop();
    }
}
