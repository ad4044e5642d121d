using System.Text;
using System.Text.Json.Nodes;
using Gateway.Telemetry;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// The access log's default output: one JSON line per request on standard output, in the console JSON lines' shape
/// (Timestamp, EventId, LogLevel, Category, Message, State), never torn by other writers, with configured secrets masked;
/// silenced by <c>Logging:LogLevel:Gateway.AccessLog: None</c> like any category.
/// </summary>
public sealed class AccessLogStdoutTests
{
    private FakeVendors _vendors = null!;

    [SetUp]
    public void StartVendors()
    {
        _vendors = new FakeVendors();
        _vendors.OpenAi.Given(Request.Create().WithPath(VendorCase.OpenAi.VendorPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(VendorCase.OpenAi.ReadFixture(VendorCase.OpenAi.ResponseFixture)));
    }

    [TearDown]
    public void StopVendors() => _vendors.Dispose();

    private async Task<(GatewayHost Gateway, LineSink Output)> StartAsync(Action<JsonObject>? overrides = null)
    {
        var output = new LineSink();
        var gateway = await GatewayHost.StartAsync(_vendors.Addresses, editOverrides: overrides,
            configure: b => b.Services.AddSingleton(new AccessLogStream(output)));
        return (gateway, output);
    }

    [Test]
    public async Task EachRequest_IsOneJsonLine_WithTheFieldsOfTheLine()
    {
        var (gateway, output) = await StartAsync();
        await using var _ = gateway;
        var ids = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 40), async (_, _) =>
        {
            using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
            await response.Content.ReadAsStringAsync();
            lock (ids)
            {
                ids.Add(response.Headers.GetValues("x-request-id").Single());
            }
        });

        await GatewayHost.WaitUntilAsync(() => Task.FromResult(output.Lines().Count >= 40), "40 access lines");
        var lines = output.Lines().Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.That(lines, Has.Count.EqualTo(40));
        Assert.That(lines.Select(l => (string)l["State"]!["trace_id"]!), Is.EquivalentTo(ids));
        var line = lines[0];
        var state = line["State"]!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That((string)line["Category"]!, Is.EqualTo("Gateway.AccessLog"));
            Assert.That((string)line["LogLevel"]!, Is.EqualTo("Information"));
            Assert.That(DateTimeOffset.Parse((string)line["Timestamp"]!, System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
            Assert.That((string)line["Message"]!, Does.StartWith($"POST {VendorCase.OpenAi.GatewayPath} 200 in "));
            Assert.That(state.Select(p => p.Key).Where(k => k != "{OriginalFormat}"), Is.EqualTo(AccessLogEntry.Names));
            Assert.That((int)state["status"]!, Is.EqualTo(200));
            Assert.That((string)state["client"]!, Is.EqualTo("team-a"));
            Assert.That((int)state["input_tokens"]!, Is.EqualTo(28));
            Assert.That((int)state["output_tokens"]!, Is.EqualTo(11));
            Assert.That((decimal)state["cost_usd"]!, Is.EqualTo(0.0000083m));
            Assert.That((bool)state["stream"]!, Is.False);
            Assert.That(state["error_code"], Is.Null);
        });
    }

    [Test]
    public async Task AConfiguredSecretInThePath_IsMasked()
    {
        var (gateway, output) = await StartAsync();
        await using var _ = gateway;
        var vendorKey = gateway.VendorKeys["openai"];

        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, "/api/ai/openai/v1/models/" + vendorKey, gateway.ClientKeys["team-a"]));
        await GatewayHost.WaitUntilAsync(() => Task.FromResult(output.Lines().Count >= 1), "the access line");

        Assert.That(output.Text, Does.Not.Contain(vendorKey));
        Assert.That(output.Text, Does.Contain("[redacted]"));
    }

    [Test]
    public async Task AValueThatBecomesASecret_IsMaskedInTheLinesAfter()
    {
        // The writer remembers texts that held no secret; a secret learnt later (a rotated key read) checks them again.
        var (gateway, output) = await StartAsync();
        await using var _ = gateway;
        var later = "sk-later-" + Guid.NewGuid().ToString("N");
        var path = "/api/ai/openai/v1/models/" + later;

        using (await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, path, gateway.ClientKeys["team-a"])))
        {
            await GatewayHost.WaitUntilAsync(() => Task.FromResult(output.Lines().Count >= 1), "the first access line");
        }

        gateway.Services.GetRequiredService<Gateway.Secrets.SecretRegistry>().Add(later);
        using (await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, path, gateway.ClientKeys["team-a"])))
        {
            await GatewayHost.WaitUntilAsync(() => Task.FromResult(output.Lines().Count >= 2), "the second access line");
        }

        var lines = output.Lines();
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Does.Contain(later), "not a secret yet");
            Assert.That(lines[1], Does.Not.Contain(later));
            Assert.That(lines[1], Does.Contain("[redacted]"));
        });
    }

    [Test]
    public async Task SilencedCategory_WritesNothing()
    {
        var (gateway, output) = await StartAsync(o => o["Logging"] = JsonNode.Parse("""{"LogLevel": {"Gateway.AccessLog": "None"}}"""));

        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, VendorCase.OpenAi.GatewayPath, gateway.ClientKeys["team-a"], VendorCase.OpenAi.RequestBody));
        await response.Content.ReadAsStringAsync();
        await gateway.DisposeAsync();

        Assert.That(output.Text, Is.Empty, "the writer is flushed when the gateway stops, so a line would be there by now");
    }

    /// <summary>Collects what the writer writes, and checks that no write is larger than a pipe's atomic write.</summary>
    private sealed class LineSink : Stream
    {
        private readonly MemoryStream _bytes = new();

        public string Text
        {
            get
            {
                lock (_bytes)
                {
                    return Encoding.UTF8.GetString(_bytes.ToArray());
                }
            }
        }

        public List<string> Lines() => [.. Text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Assert.That(buffer.Length, Is.LessThanOrEqualTo(AccessLogWriter.MaxWriteBytes));
            Assert.That(buffer[^1], Is.EqualTo((byte)'\n'), "whole lines only");
            lock (_bytes)
            {
                _bytes.Write(buffer);
            }
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
