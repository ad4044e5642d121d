using System.Text;
using Gateway.Transforms.Http;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Http;

/// <summary>A declared body held in a pooled array: read whole once, then served (and re-served) as a seekable stream.</summary>
public sealed class PooledRequestBodyTests
{
    private static byte[] Payload(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 13))];

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(5000)]
    public async Task ReadsTheDeclaredLength_AndServesItAgainAfterARewind(int length)
    {
        var payload = Payload(length);
        using var body = await PooledRequestBody.ReadAsync(new TrickleStream(payload), length, default);
        Assert.That(body.Length, Is.EqualTo(length));
        Assert.That(body.Memory.ToArray(), Is.EqualTo(payload));

        var first = new MemoryStream();
        await body.CopyToAsync(first);
        Assert.That(await body.ReadAsync(new byte[10]), Is.Zero, "at the end after a copy");
        body.Position = 0;
        var second = new MemoryStream();
        var buffer = new byte[7];
        int read;
        while ((read = await body.ReadAsync(buffer.AsMemory())) > 0)
        {
            second.Write(buffer, 0, read);
        }

        Assert.That(first.ToArray(), Is.EqualTo(payload));
        Assert.That(second.ToArray(), Is.EqualTo(payload), "sent again after a vendor 401");
    }

    [Test]
    public async Task ASourceThatEndsEarly_GivesWhatCame()
    {
        using var body = await PooledRequestBody.ReadAsync(new MemoryStream(Payload(30)), 100, default);
        Assert.That(body.Length, Is.EqualTo(30));
    }

    [Test]
    public async Task Seek_FromEachOrigin_AndAZeroByteRead_CompletesAtOnce()
    {
        using var body = await PooledRequestBody.ReadAsync(new MemoryStream(Encoding.ASCII.GetBytes("0123456789")), 10, default);
        Assert.That(body.Seek(-3, SeekOrigin.End), Is.EqualTo(7));
        Assert.That(body.Seek(1, SeekOrigin.Current), Is.EqualTo(8));
        Assert.That(body.Seek(2, SeekOrigin.Begin), Is.EqualTo(2));
        var zero = body.ReadAsync(Memory<byte>.Empty);
        Assert.That(zero.IsCompletedSuccessfully && zero.Result == 0, "the forwarder's zero-byte read does not wait");
        var rest = new byte[20];
        Assert.That(body.Read(rest, 0, rest.Length), Is.EqualTo(8));
        Assert.That(Encoding.ASCII.GetString(rest, 0, 8), Is.EqualTo("23456789"));
    }

    [Test]
    public async Task TheBufferedBodyReader_ReadsItInPlace_WithinItsBound()
    {
        var payload = Payload(1000);
        var context = new DefaultHttpContext();
        await using var held = await PooledRequestBody.ReadAsync(new MemoryStream(payload), payload.Length, default);
        context.Request.Body = held;
        context.Request.ContentLength = payload.Length;

        using (var whole = await BufferedBody.ReadAsync(context.Request, 5000, default))
        {
            Assert.That(whole.Whole, Is.True);
            Assert.That(whole.Span.ToArray(), Is.EqualTo(payload));
        }

        using var bounded = await BufferedBody.ReadAsync(context.Request, 100, default);
        Assert.That(bounded.Whole, Is.False);
        Assert.That(bounded.Span.ToArray(), Is.EqualTo(payload[..100]));
        Assert.That(held.Memory.ToArray(), Is.EqualTo(payload), "disposing a reader's view leaves the body to the forwarder");
    }

    [Test]
    public async Task AfterDispose_NothingCanBeRead()
    {
        var body = await PooledRequestBody.ReadAsync(new MemoryStream(Payload(10)), 10, default);
        body.Dispose();
        body.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(body.CanRead, Is.False);
            Assert.That(() => body.Memory, Throws.TypeOf<ObjectDisposedException>());
            Assert.That(() => body.Read(new byte[1], 0, 1), Throws.TypeOf<ObjectDisposedException>());
        });
    }

    // Kestrel's body stream: pieces of at most 700 bytes.
    private sealed class TrickleStream(byte[] payload) : MemoryStream(payload)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => base.ReadAsync(buffer[..Math.Min(buffer.Length, 700)], cancellationToken);
    }
}
