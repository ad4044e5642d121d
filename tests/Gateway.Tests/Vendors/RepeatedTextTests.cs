using System.Net.Http.Headers;
using System.Text;
using Gateway.Transforms.Passthrough;
using Gateway.Transforms.Vendors;
using Gateway.Transforms.Vendors.Cohere;
using Gateway.Transforms.Vendors.OpenAi;

namespace Gateway.Tests.Vendors;

/// <summary>
/// What repeats from call to call — the model a caller names, the model an answer names, the vendor key's header — is
/// handed back as the string made last time rather than made anew (the same text, not only an equal one), and anything
/// else is read as it is.
/// </summary>
public sealed class RepeatedTextTests
{
    [Test]
    public void TheModelACallerNamesAgain_IsTheStringReadBefore()
    {
        var first = RequestModel.Find(Body("""{"model":"repeat-m1","messages":[]}"""), true);
        var again = RequestModel.Find(Body("""{"messages":[],"model":"repeat-\u006d1"}"""), true);
        var other = RequestModel.Find(Body("""{"model":"repeat-m2"}"""), true);
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.SameAs(first), "the same text, escaped or not");
            Assert.That(other, Is.EqualTo("repeat-m2"));
            Assert.That(RequestModel.Find(Body("""{"model":"repeat-m1"}"""), true), Is.EqualTo("repeat-m1"), "after another");
        });
    }

    [Test]
    public void TheModelAnAnswerNamesAgain_IsTheStringReadBefore()
    {
        var first = VendorJson.TopLevelUsage(Body("""{"model":"answer-m1","usage":{"input_tokens":1}}""")).Model;
        var again = VendorJson.TopLevelUsage(Body("""{"usage":{"input_tokens":2},"model":"answer-m1"}""")).Model;
        var other = VendorJson.TopLevelUsage(Body("""{"model":"answer-m1-2026","usage":{"input_tokens":1}}""")).Model;
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.SameAs(first));
            Assert.That(other, Is.EqualTo("answer-m1-2026"));
        });
    }

    [Test]
    public void TheSameKey_GivesTheSameHeaderValue_AndAnotherKeyItsOwn()
    {
        foreach (IVendorAdapter vendor in new IVendorAdapter[] { new OpenAiVendor(), new CohereVendor() })
        {
            var first = Credential(vendor, "sk-repeat-key-1");
            var again = Credential(vendor, "sk-repeat-key-1");
            Assert.Multiple(() =>
            {
                Assert.That(first, Is.EqualTo("Bearer sk-repeat-key-1"));
                Assert.That(again, Is.SameAs(first));
                Assert.That(Credential(vendor, "sk-rotated-key-2"), Is.EqualTo("Bearer sk-rotated-key-2"), "a rotated key");
                Assert.That(Credential(vendor, new string("sk-repeat-key-1".ToCharArray())), Is.EqualTo("Bearer sk-repeat-key-1"), "the first again");
            });
        }
    }

    private static string Credential(IVendorAdapter vendor, string key)
    {
        var headers = new HttpRequestMessage().Headers;
        vendor.ApplyCredentials(headers, key);
        return headers.NonValidated["Authorization"].ToString();
    }

    private static byte[] Body(string json) => Encoding.UTF8.GetBytes(json);
}
