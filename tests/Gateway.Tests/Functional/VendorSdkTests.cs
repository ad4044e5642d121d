using System.ClientModel;
using Anthropic;
using Anthropic.Models.Messages;
using Gateway.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>The drop-in promise, proved with the vendors' own SDKs: only the base URL and the key change.</summary>
public sealed class VendorSdkTests : GatewayFixture
{

    [OneTimeSetUp]
    public void VendorsAnswer()
    {
        foreach (var vendor in new[] { VendorCase.OpenAi, VendorCase.Anthropic })
        {
            Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).WithBody(b => b != null && !b.Contains("\"stream\":true")).UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(vendor.ReadFixture(vendor.ResponseFixture)));
            Vendors[vendor.Vendor].Given(Request.Create().WithPath(vendor.VendorPath).WithBody(b => b != null && b.Contains("\"stream\":true")).UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(vendor.ReadFixture(vendor.StreamFixture)));
        }
    }

    private ChatClient OpenAiChat() => new("gpt-6-luna", new ApiKeyCredential(Gateway.ClientKeys["team-a"]),
        new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/api/ai/openai/v1") });

    private AnthropicClient AnthropicSdk() => new() { ApiKey = Gateway.ClientKeys["team-a"], BaseUrl = new Uri(Gateway.BaseAddress, "/api/ai/anthropic").ToString() };

    private static MessageCreateParams AnthropicRequest() => new()
    {
        Model = "claude-sonnet-5-5",
        MaxTokens = 256,
        Messages = [new UserMessageParam { Content = "Summarize the following email." }],
    };

    [Test]
    public async Task OpenAiSdk_CompleteChat_ThroughGateway()
    {
        ChatCompletion completion = await OpenAiChat().CompleteChatAsync([new UserChatMessage("Summarize the following email.")]);

        Assert.That(completion.Content[0].Text, Is.EqualTo("Customer requests invoice review and Q3 delivery confirmation."));
        Assert.That(completion.Usage.TotalTokenCount, Is.EqualTo(39));
        var headers = Vendors.OpenAi.LogEntries.Last().RequestMessage!.Headers!;
        Assert.That(headers["Authorization"].Single(), Is.EqualTo("Bearer " + Gateway.VendorKeys["openai"]));
    }

    [Test]
    public async Task OpenAiSdk_WithItsOwnRetriesOff_GetsTheAnswer_WhenTheGatewayRetriedTheVendorsTwo503s()
    {
        // Only the gateway may try again here: the SDK makes one call, so its success is the gateway's retries.
        const string Marker = "retried-by-the-gateway";
        var error = VendorCase.OpenAi.ReadFixture("openai/golden/error-500.json");
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).WithBody(b => b != null && b.Contains(Marker)).UsingPost())
            .AtPriority(-10).InScenario(Marker).WillSetStateTo("second")
            .RespondWith(Response.Create().WithStatusCode(503).WithHeader("Content-Type", "application/json").WithBody(error));
        Vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).WithBody(b => b != null && b.Contains(Marker)).UsingPost())
            .AtPriority(-10).InScenario(Marker).WhenStateIs("second").WillSetStateTo("third")
            .RespondWith(Response.Create().WithStatusCode(503).WithHeader("Content-Type", "application/json").WithBody(error));
        var calls = 0;
        var sdk = new ChatClient("gpt-6-luna", new ApiKeyCredential(Gateway.ClientKeys["team-a"]), new OpenAIClientOptions
        {
            Endpoint = new Uri(Gateway.BaseAddress, "/api/ai/openai/v1"),
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0),
            Transport = new System.ClientModel.Primitives.HttpClientPipelineTransport(new HttpClient(new CountingHandler(() => Interlocked.Increment(ref calls)))),
        });

        ChatCompletion completion = await sdk.CompleteChatAsync([new UserChatMessage("Summarize the following email. " + Marker)]);

        Assert.That(completion.Content[0].Text, Is.EqualTo("Customer requests invoice review and Q3 delivery confirmation."));
        Assert.That(calls, Is.EqualTo(1), "the SDK called the gateway once");
        Assert.That(Vendors.OpenAi.LogEntries.Count(e => e.RequestMessage!.Body!.Contains(Marker)), Is.EqualTo(3), "the gateway called the vendor three times");
    }

    private sealed class CountingHandler(Action count) : DelegatingHandler(new HttpClientHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            count();
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Test]
    public async Task OpenAiSdk_StreamingChat_ThroughGateway()
    {
        var text = "";
        await foreach (var update in OpenAiChat().CompleteChatStreamingAsync([new UserChatMessage("Summarize the following email.")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text += part.Text;
            }
        }

        Assert.That(text, Is.EqualTo("Customer requests invoice review and Q3 delivery confirmation."));
    }

    [Test]
    public async Task AnthropicSdk_CreateMessage_ThroughGateway()
    {
        var message = await AnthropicSdk().Messages.Create(AnthropicRequest());

        Assert.That(message.Content[0].TryPickText(out var text), Is.True);
        Assert.That(text!.Text, Is.EqualTo("Customer requests invoice review and Q3 delivery confirmation."));
        var headers = Vendors.Anthropic.LogEntries.Last().RequestMessage!.Headers!;
        Assert.That(headers["x-api-key"].Single(), Is.EqualTo(Gateway.VendorKeys["anthropic"]));
    }

    [Test]
    public async Task AnthropicSdk_StreamingMessage_ThroughGateway()
    {
        var text = "";
        await foreach (var streamEvent in AnthropicSdk().Messages.CreateStreaming(AnthropicRequest()))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                text += textDelta.Text;
            }
        }

        Assert.That(text, Is.EqualTo("Customer requests invoice review and Q3 delivery confirmation."));
    }

    [Test]
    public async Task OpenAiSdk_GatewayError_ShowsTheGatewaysMessageAndCode()
    {
        var chat = new ChatClient("gpt-6-luna", new ApiKeyCredential("gwk_not-a-key-of-any-client"),
            new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseAddress, "/api/ai/openai/v1"), RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hi")]));

        Assert.That(error!.Status, Is.EqualTo(401));
        Assert.That(error.Message, Does.Contain("Present a gateway client key").And.Contain("unauthenticated"), error.Message);
    }

    [Test]
    public async Task AnthropicSdk_GatewayError_ShowsTheGatewaysMessageAndType()
    {
        var client = new AnthropicClient { ApiKey = "gwk_not-a-key-of-any-client", BaseUrl = new Uri(Gateway.BaseAddress, "/api/ai/anthropic").ToString(), MaxRetries = 0 };

        var error = await Assert.CatchAsync<Exception>(() => client.Messages.Create(AnthropicRequest()));

        Assert.That(error!.Message, Does.Contain("Present a gateway client key"), error.ToString());
    }
}
