using System.Net.Http.Headers;
using Gateway.Tests.Vendors.Acme;
using Gateway.Transforms.Vendors;
using Gateway.Transforms.Vendors.Anthropic;
using Gateway.Transforms.Vendors.Cohere;
using Gateway.Transforms.Vendors.OpenAi;

namespace Gateway.Tests.Vendors;

/// <summary>How long each vendor's throttled or failing answer asks to be left alone, read from its own headers.</summary>
public sealed class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static HttpResponseHeaders Headers(params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage();
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response.Headers;
    }

    private static TimeSpan? Read(IVendorAdapter vendor, params (string, string)[] headers) => vendor.RetryAfter(Headers(headers), Now);

    [Test]
    public void EveryVendor_ReadsTheHttpRetryAfter_SecondsOrDate()
    {
        foreach (var vendor in new IVendorAdapter[] { new OpenAiVendor(), new AnthropicVendor(), new CohereVendor(), new AcmeVendor() })
        {
            Assert.That(Read(vendor, ("Retry-After", "7")), Is.EqualTo(TimeSpan.FromSeconds(7)), vendor.Name);
            Assert.That(Read(vendor, ("Retry-After", Now.AddSeconds(90).ToString("R"))), Is.EqualTo(TimeSpan.FromSeconds(90)), vendor.Name);
            Assert.That(Read(vendor, ("Retry-After", Now.AddSeconds(-5).ToString("R"))), Is.EqualTo(TimeSpan.Zero), vendor.Name + ": a date past is now");
            Assert.That(Read(vendor), Is.Null, vendor.Name + ": says nothing");
        }
    }

    [Test]
    public void OpenAi_PrefersRetryAfterMs_ThenRetryAfter_ThenTheExhaustedLimitsReset()
    {
        var openAi = new OpenAiVendor();
        Assert.Multiple(() =>
        {
            Assert.That(Read(openAi, ("retry-after-ms", "1500.5"), ("Retry-After", "2")), Is.EqualTo(TimeSpan.FromMilliseconds(1500.5)));
            Assert.That(Read(openAi, ("Retry-After", "2"), ("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "6m0s")), Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(Read(openAi, ("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "6m0s"),
                ("x-ratelimit-remaining-tokens", "120"), ("x-ratelimit-reset-tokens", "1h")), Is.EqualTo(TimeSpan.FromMinutes(6)), "only the exhausted limit counts");
            Assert.That(Read(openAi, ("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "1h2m3.5s")), Is.EqualTo(new TimeSpan(0, 1, 2, 3, 500)));
            Assert.That(Read(openAi, ("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "20ms")), Is.EqualTo(TimeSpan.FromMilliseconds(20)));
            Assert.That(Read(openAi, ("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "soon")), Is.Null, "not a duration");
            Assert.That(Read(openAi, ("retry-after-ms", "-3")), Is.Null, "not a wait");
        });
    }

    [Test]
    public void Anthropic_ReadsRetryAfter_ThenTheExhaustedLimitsResetTime()
    {
        var anthropic = new AnthropicVendor();
        var reset = Now.AddSeconds(42).ToString("yyyy-MM-ddTHH:mm:ssZ");
        Assert.Multiple(() =>
        {
            Assert.That(Read(anthropic, ("retry-after", "3"), ("anthropic-ratelimit-requests-remaining", "0"), ("anthropic-ratelimit-requests-reset", reset)), Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(Read(anthropic, ("anthropic-ratelimit-input-tokens-remaining", "0"), ("anthropic-ratelimit-input-tokens-reset", reset)), Is.EqualTo(TimeSpan.FromSeconds(42)));
            Assert.That(Read(anthropic, ("anthropic-ratelimit-requests-remaining", "10"), ("anthropic-ratelimit-requests-reset", reset)), Is.Null, "not exhausted");
        });
    }
}
