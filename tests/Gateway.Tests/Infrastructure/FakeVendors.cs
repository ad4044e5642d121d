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

    /// <summary>
    /// Anthropic answers with the first <paramref name="events"/> events of its documented stream, then stays open and
    /// quiet (as a slow generation would) until <paramref name="callerLeft"/> is released and a while after.
    /// </summary>
    public void AnthropicStreamThatStalls(int events, SemaphoreSlim callerLeft, TimeSpan quietAfter)
    {
        var sent = VendorCase.Anthropic.StreamEvents().Take(events).ToList();
        Anthropic.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream")
                .WithSseBody(async (_, queue) =>
                {
                    foreach (var sseEvent in sent)
                    {
                        queue.Write(sseEvent);
                    }

                    await callerLeft.WaitAsync(TimeSpan.FromSeconds(10));
                    await Task.Delay(quietAfter);
                    queue.Close();
                }));
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
