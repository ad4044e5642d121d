using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Secrets;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// AWS as the gateway reaches it, on one WireMock server, from the documented shapes: Secrets Manager's JSON 1.1
/// <c>GetSecretValue</c> (answered only when the SigV4 <c>Authorization</c> header is exactly the one this class computes
/// on its own, independently of the gateway's signer), its error shapes; STS <c>AssumeRoleWithWebIdentity</c> (XML); the
/// container credentials endpoint (JSON).
/// </summary>
public sealed class FakeAws : IDisposable
{
    public const string Region = "us-east-1";
    public const string AccessKeyId = "AKIAIOSFODNN7EXAMPLE";
    public const string SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
    public const string StsPath = "/sts/";
    public const string ContainerPath = "/v1/credentials";

    public WireMockServer Server { get; } = WireMockServer.Start();

    public string Endpoint => Server.Url!;

    public FakeAws()
    {
        // Whatever is not signed as expected: what Secrets Manager says to a bad signature.
        Server.Given(Request.Create().WithPath("/").UsingPost()).AtPriority(100)
            .RespondWith(Error(400, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."));
    }

    /// <summary>The process environment a gateway under test sees (AWS_* variables).</summary>
    public sealed class Environment(Dictionary<string, string> variables) : AwsEnvironment
    {
        public Dictionary<string, string> Variables { get; } = variables;

        public override string? this[string name] => Variables.GetValueOrDefault(name);
    }

    /// <summary>Secrets Manager answers <paramref name="secretString"/> for the secret at the stage, to a call signed with these credentials at <paramref name="signedAt"/>.</summary>
    public void Secret(string secretId, string secretString, string versionId, DateTimeOffset signedAt, string accessKeyId = AccessKeyId,
        string secretAccessKey = SecretAccessKey, string? sessionToken = null, string stage = "AWSCURRENT", int priority = 10)
    {
        var body = $$"""{"SecretId":"{{secretId}}","VersionStage":"{{stage}}"}""";
        var request = Request.Create().WithPath("/").UsingPost()
            .WithHeader("X-Amz-Target", AwsSecretsManagerSource.Target)
            .WithHeader("Content-Type", AwsSecretsManagerSource.ContentType)
            .WithHeader("X-Amz-Date", signedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture))
            .WithHeader("Authorization", ExpectedAuthorization(body, signedAt, accessKeyId, secretAccessKey, sessionToken))
            .WithBody(body);
        if (sessionToken is not null)
        {
            request = request.WithHeader("X-Amz-Security-Token", sessionToken);
        }

        Server.Given(request).AtPriority(priority).RespondWith(Json(200, new JsonObject
        {
            ["ARN"] = $"arn:aws:secretsmanager:{Region}:123456789012:secret:{secretId}-a1b2c3",
            ["CreatedDate"] = 1.764290451E9,
            ["Name"] = secretId,
            ["SecretString"] = secretString,
            ["VersionId"] = versionId,
            ["VersionStages"] = new JsonArray(stage),
        }.ToJsonString()));
    }

    /// <summary>Secrets Manager answers an error of the documented shape to any GetSecretValue call.</summary>
    public void Fails(string type, string message, int status = 400, int priority = 5)
        => Server.Given(Request.Create().WithPath("/").UsingPost()).AtPriority(priority).RespondWith(Error(status, type, message));

    /// <summary>STS exchanges exactly this web identity token for these temporary credentials.</summary>
    public void WebIdentity(string roleArn, string token, string accessKeyId, string secretAccessKey, string sessionToken, DateTimeOffset expiration)
        => Server.Given(Request.Create().WithPath(StsPath).UsingPost()
                .WithBody(b => b is not null && Form(b) is var form && form.GetValueOrDefault("Action") == "AssumeRoleWithWebIdentity"
                    && form.GetValueOrDefault("Version") == "2011-06-15" && form.GetValueOrDefault("RoleArn") == roleArn && form.GetValueOrDefault("WebIdentityToken") == token))
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/xml").WithBody($"""
                <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <AssumeRoleWithWebIdentityResult>
                    <SubjectFromWebIdentityToken>system:serviceaccount:ai:ai-gateway</SubjectFromWebIdentityToken>
                    <Audience>sts.amazonaws.com</Audience>
                    <AssumedRoleUser>
                      <Arn>{roleArn.Replace(":role/", ":assumed-role/", StringComparison.Ordinal)}/ai-gateway</Arn>
                      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:ai-gateway</AssumedRoleId>
                    </AssumedRoleUser>
                    <Credentials>
                      <SessionToken>{sessionToken}</SessionToken>
                      <SecretAccessKey>{secretAccessKey}</SecretAccessKey>
                      <Expiration>{expiration.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}</Expiration>
                      <AccessKeyId>{accessKeyId}</AccessKeyId>
                    </Credentials>
                    <SourceIdentity></SourceIdentity>
                    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE</Provider>
                  </AssumeRoleWithWebIdentityResult>
                  <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>
                </AssumeRoleWithWebIdentityResponse>
                """));

    /// <summary>The container credentials endpoint answers these credentials to a call carrying the authorization token.</summary>
    public void Container(string authorization, string accessKeyId, string secretAccessKey, string sessionToken, DateTimeOffset expiration)
        => Server.Given(Request.Create().WithPath(ContainerPath).UsingGet().WithHeader("Authorization", authorization))
            .RespondWith(Json(200, new JsonObject
            {
                ["AccessKeyId"] = accessKeyId, ["SecretAccessKey"] = secretAccessKey, ["Token"] = sessionToken,
                ["AccountId"] = "123456789012", ["Expiration"] = expiration.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            }.ToJsonString()));

    /// <summary>EC2 instance metadata (IMDSv2): a session token for a PUT, then the instance profile's role and its credentials to calls carrying it.</summary>
    public void InstanceMetadata(string role, string accessKeyId, string secretAccessKey, string sessionToken, DateTimeOffset expiration)
    {
        const string token = "AQAEAImdsSessionTokenEXAMPLE000000000000000000000000==";
        Server.Given(Request.Create().WithPath("/latest/api/token").UsingPut().WithHeader("X-aws-ec2-metadata-token-ttl-seconds", "21600"))
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(token));
        Server.Given(Request.Create().WithPath("/latest/meta-data/iam/security-credentials/").UsingGet().WithHeader("X-aws-ec2-metadata-token", token))
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(role));
        Server.Given(Request.Create().WithPath("/latest/meta-data/iam/security-credentials/" + role).UsingGet().WithHeader("X-aws-ec2-metadata-token", token))
            .RespondWith(Json(200, new JsonObject
            {
                ["Code"] = "Success", ["LastUpdated"] = "2026-11-28T08:55:00Z", ["Type"] = "AWS-HMAC",
                ["AccessKeyId"] = accessKeyId, ["SecretAccessKey"] = secretAccessKey, ["Token"] = sessionToken,
                ["Expiration"] = expiration.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            }.ToJsonString()));
    }

    /// <summary>
    /// The SigV4 Authorization header for the GetSecretValue call, computed here step by step as AWS documents it (the
    /// canonical request written out, the string to sign, the HMAC chain), not with the gateway's code.
    /// </summary>
    public string ExpectedAuthorization(string body, DateTimeOffset signedAt, string accessKeyId, string secretAccessKey, string? sessionToken)
    {
        var uri = new Uri(Endpoint);
        var amzDate = signedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var day = amzDate[..8];
        var signedHeaders = sessionToken is null ? "content-type;host;x-amz-date;x-amz-target" : "content-type;host;x-amz-date;x-amz-security-token;x-amz-target";
        var canonical = "POST\n/\n\n"
            + "content-type:application/x-amz-json-1.1\n"
            + $"host:{uri.Authority}\n"
            + $"x-amz-date:{amzDate}\n"
            + (sessionToken is null ? "" : $"x-amz-security-token:{sessionToken}\n")
            + "x-amz-target:secretsmanager.GetSecretValue\n"
            + "\n" + signedHeaders + "\n" + Hex(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        var scope = $"{day}/{Region}/secretsmanager/aws4_request";
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Encoding.UTF8.GetBytes("AWS4" + secretAccessKey);
        foreach (var part in new[] { day, Region, "secretsmanager", "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }

        var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return $"AWS4-HMAC-SHA256 Credential={accessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    /// <summary>The GetSecretValue calls received, with their headers.</summary>
    public IEnumerable<WireMock.Logging.ILogEntry> SecretCalls => Server.LogEntries.Where(e => e.RequestMessage!.Path == "/");

    public void Dispose() => Server.Stop();

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static Dictionary<string, string> Form(string body) => body.Split('&').Select(p => p.Split('=', 2))
        .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");

    private static IResponseBuilder Json(int status, string body)
        => Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/x-amz-json-1.1").WithBody(body);

    // Secrets Manager's JSON 1.1 error: the type in __type (and x-amzn-ErrorType), the text in Message.
    private static IResponseBuilder Error(int status, string type, string message)
        => Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/x-amz-json-1.1").WithHeader("x-amzn-ErrorType", type + ":")
            .WithBody(new JsonObject { ["__type"] = type, ["Message"] = message }.ToJsonString());
}
