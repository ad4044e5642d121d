using Gateway.Secrets;

namespace Gateway.Tests.Secrets;

/// <summary>The signer against AWS's SigV4 test suite (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service").</summary>
public sealed class AwsSigV4Tests
{
    private static readonly AwsCredentialSet Example = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null, null, "test");
    private static readonly DateTimeOffset SignedAt = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    private static KeyValuePair<string, string>[] HostAndDate => [new("Host", "example.amazonaws.com"), new("X-Amz-Date", "20150830T123600Z")];

    [TestCase("GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", TestName = "get-vanilla")]
    [TestCase("POST", "https://example.amazonaws.com/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b", TestName = "post-vanilla")]
    [TestCase("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", TestName = "get-vanilla-query-order-key-case")]
    public void SignsTheTestSuiteVectors(string method, string url, string signature)
        => Assert.That(AwsSigV4.Authorization(method, new Uri(url), HostAndDate, [], Example, "us-east-1", "service", SignedAt),
            Is.EqualTo($"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}"));

    [Test]
    public void CanonicalRequest_IsTheDocumentedOne()
        => Assert.That(AwsSigV4.CanonicalRequest("GET", new Uri("https://example.amazonaws.com/?Param2=value2&Param1=value1"), HostAndDate, [], out var signed),
            Is.EqualTo("GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                .And.Matches<string>(_ => signed == "host;x-amz-date"));

    [TestCase("aws-sm:ai/openai", "ai/openai", null, "AWSCURRENT")]
    [TestCase("aws-sm:ai/openai#api_key", "ai/openai", "api_key", "AWSCURRENT")]
    [TestCase("aws-sm:ai/openai#api_key@AWSPENDING", "ai/openai", "api_key", "AWSPENDING")]
    [TestCase("aws-sm:ai/openai@AWSPREVIOUS", "ai/openai", null, "AWSPREVIOUS")]
    [TestCase("aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:ai/openai-AbCdEf#key", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ai/openai-AbCdEf", "key", "AWSCURRENT")]
    [TestCase("aws-sm:team@corp@AWSCURRENT", "team@corp", null, "AWSCURRENT")]
    public void References_Parse(string text, string secretId, string? field, string stage)
    {
        Assert.That(SecretReference.TryParse(text, out var reference, out var error), Is.True, error);
        Assert.That(reference, Is.EqualTo(new AwsSecretsManagerReference(text, secretId, field, stage)));
    }

    [TestCase("aws-sm:#field")]
    [TestCase("aws-sm:ai/openai#")]
    [TestCase("aws-sm:ai/openai#key@")]
    [TestCase("aws-sm:ai/openai@stage with space")]
    public void MalformedReferences_AreRefusedWithTheForm(string text)
    {
        Assert.That(SecretReference.TryParse(text, out _, out var error), Is.False);
        Assert.That(error, Is.EqualTo("is not an AWS Secrets Manager reference: write aws-sm:secret-id (a name or an ARN), then optionally #field and @stage"));
    }
}
