using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// Requests no well-behaved client sends, over raw sockets: non-ASCII header bytes, CONNECT and TRACE, chunked bodies
/// at and over the limit in tiny chunks, malformed chunks, bodies that stall. Each gets a clear 4xx problem (or is
/// served, when it is valid), with the shipped 10 MiB body limit.
/// </summary>
public sealed class HostileRequestTests : GatewayFixture
{
    private const int Limit = 10 * 1024 * 1024;
    private const string Path = "/api/ai/openai/v1/chat/completions";

    [OneTimeSetUp]
    public void VendorsAnswer()
    {
        Vendors.OpenAi.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
    }

    [SetUp]
    public void ClearVendorLog() => Vendors.OpenAi.ResetLogEntries();

    private string Key => Gateway.ClientKeys["team-a"];

    private static void IsProblem(RawResponse response, int status, string code)
    {
        Assert.That(response.Status, Is.EqualTo(status), response.Body);
        Assert.That(response.Headers["Content-Type"], Does.StartWith("application/problem+json"));
        Assert.That(JsonDocument.Parse(response.Body).RootElement.GetProperty("code").GetString(), Is.EqualTo(code));
    }

    [TestCase("/api/ai/openai/v1/chat/completions")]
    [TestCase("/v1/ai/generate")]
    public async Task NonAsciiHeaderValue_Is400NamingTheHeader_AndNoVendorIsCalled(string path)
    {
        var response = await RawHttp.SendAsync(Gateway.BaseAddress,
            $"POST {path} HTTP/1.1\r\nAuthorization: Bearer {Key}\r\nContent-Type: application/json\r\nContent-Length: 15\r\nX-A: h\u00e9llo",
            stream => stream.WriteAsync("{\"prompt\":\"hi\"}"u8.ToArray()).AsTask());

        IsProblem(response, 400, "bad_request");
        Assert.That(JsonDocument.Parse(response.Body).RootElement.GetProperty("detail").GetString(), Does.Contain("X-A"));
        Assert.That(Vendors.OpenAi.LogEntries, Is.Empty);
    }

    [TestCase("CONNECT /api/ai/openai/v1/models HTTP/1.1")]
    [TestCase("TRACE /api/ai/openai/v1/models HTTP/1.1")]
    [TestCase("TRACE /v1/ai/generate HTTP/1.1")]
    public async Task ConnectAndTrace_Are405_AndNoVendorIsCalled(string requestLine)
    {
        var response = await RawHttp.SendAsync(Gateway.BaseAddress, $"{requestLine}\r\nAuthorization: Bearer {Key}");

        IsProblem(response, 405, "method_not_allowed");
        Assert.That(response.Body, Does.Not.Contain(Gateway.VendorKeys["openai"]));
        Assert.That(Vendors.OpenAi.LogEntries, Is.Empty);
    }

    [Test]
    public async Task ConnectToAnAuthority_IsRefusedByTheServer_AndNoVendorIsCalled()
    {
        // Kestrel refuses authority-form CONNECT itself (400) before any middleware runs; the point is that it goes nowhere.
        var response = await RawHttp.SendAsync(Gateway.BaseAddress, $"CONNECT api.openai.com:443 HTTP/1.1\r\nAuthorization: Bearer {Key}");

        Assert.That(response.Status, Is.InRange(400, 405));
        Assert.That(Vendors.OpenAi.LogEntries, Is.Empty);
    }

    [Test]
    public async Task TwoMiBInOneByteChunks_IsForwardedWhole()
    {
        var data = Encoding.ASCII.GetBytes(new string('x', 2 * 1024 * 1024));
        var response = await RawHttp.SendAsync(Gateway.BaseAddress,
            $"POST {Path} HTTP/1.1\r\nAuthorization: Bearer {Key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
            stream => RawHttp.WriteChunkedAsync(stream, data, chunkSize: 1));

        Assert.That(response.Status, Is.EqualTo(200), response.Body);
        Assert.That(Vendors.OpenAi.LogEntries.Single().RequestMessage!.Body!.Length, Is.EqualTo(data.Length), "chunk framing does not count against the limit");
    }

    [TestCase(Limit, 200)]
    [TestCase(Limit + 1, 413)]
    public async Task ChunkedBodyAtTheLimit_IsJudgedOnItsPayloadLikeADeclaredOne(int size, int status)
    {
        var data = Encoding.ASCII.GetBytes(new string('x', size));
        var chunked = await RawHttp.SendAsync(Gateway.BaseAddress,
            $"POST {Path} HTTP/1.1\r\nAuthorization: Bearer {Key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
            stream => RawHttp.WriteChunkedAsync(stream, data, chunkSize: 64 * 1024));
        var declared = await RawHttp.SendAsync(Gateway.BaseAddress,
            $"POST {Path} HTTP/1.1\r\nAuthorization: Bearer {Key}\r\nContent-Type: application/json\r\nContent-Length: {size}",
            stream => stream.WriteAsync(data).AsTask());

        Assert.That(chunked.Status, Is.EqualTo(status), chunked.Body);
        Assert.That(declared.Status, Is.EqualTo(status), declared.Body);
        if (status == 413)
        {
            IsProblem(chunked, 413, "payload_too_large");
            Assert.That(Vendors.OpenAi.LogEntries, Is.Empty);
        }
        else
        {
            Assert.That(Vendors.OpenAi.LogEntries.Select(e => e.RequestMessage!.Body!.Length), Is.EqualTo(new[] { size, size }));
        }
    }

    [TestCase("zz\r\nxx\r\n0\r\n\r\n")]
    [TestCase("2\r\nxyz\r\n0\r\n\r\n")]
    public async Task MalformedChunk_Is400_NotPayloadTooLarge(string chunks)
    {
        var response = await RawHttp.SendAsync(Gateway.BaseAddress,
            $"POST {Path} HTTP/1.1\r\nAuthorization: Bearer {Key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
            stream => stream.WriteAsync(Encoding.ASCII.GetBytes(chunks)).AsTask());

        IsProblem(response, 400, "bad_request");
        Assert.That(Vendors.OpenAi.LogEntries, Is.Empty);
    }

    // Kestrel cuts a body that arrives slower than its minimum data rate (240 B/s after a 5 s grace period, the
    // shipped default): that is a 408, not a 413. The test waits out Kestrel's real grace period.
    [TestCase("Transfer-Encoding: chunked", "5\r\n{\"pro")]
    [TestCase("Content-Length: 400", "{\"pro")]
    public async Task BodyThatStalls_Is408(string framing, string start)
    {
        var response = await RawHttp.SendAsync(Gateway.BaseAddress,
            $"POST {Path} HTTP/1.1\r\nAuthorization: Bearer {Key}\r\nContent-Type: application/json\r\n{framing}",
            // The rest of the body never comes; the connection stays open while the answer is read.
            stream => stream.WriteAsync(Encoding.ASCII.GetBytes(start)).AsTask(),
            timeout: TimeSpan.FromSeconds(30));

        IsProblem(response, 408, "request_timeout");
        Assert.That(Vendors.OpenAi.LogEntries, Is.Empty);
    }
}
