using Gateway.Transforms.Http;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Http;

/// <summary>The one body reader: bounded, exact about whether it read everything, and leaving a buffered body rewound.</summary>
public sealed class BufferedBodyTests
{
    private static HttpRequest Request(byte[] payload, bool seekable, bool declareLength)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = seekable ? new MemoryStream(payload) : new ForwardOnlyStream(payload);
        context.Request.ContentLength = declareLength ? payload.Length : null;
        return context.Request;
    }

    private static byte[] Payload(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7))];

    [TestCase(true, true)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(false, false)]
    public async Task UnderTheBound_ReadsEverything_AndSaysSo(bool seekable, bool declareLength)
    {
        var payload = Payload(40_000);
        using var body = await BufferedBody.ReadAsync(Request(payload, seekable, declareLength), 100_000, default);
        Assert.That(body.Whole, Is.True);
        Assert.That(body.Span.ToArray(), Is.EqualTo(payload));
    }

    [TestCase(true, true)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(false, false)]
    public async Task ExactlyTheBound_IsWhole(bool seekable, bool declareLength)
    {
        var payload = Payload(20_000);
        using var body = await BufferedBody.ReadAsync(Request(payload, seekable, declareLength), 20_000, default);
        Assert.That(body.Whole, Is.True);
        Assert.That(body.Length, Is.EqualTo(20_000));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task OverTheBound_ReadsTheBoundOnly_AndSaysItIsNotWhole(bool seekable)
    {
        var payload = Payload(50_000);
        using var body = await BufferedBody.ReadAsync(Request(payload, seekable, declareLength: false), 30_000, default);
        Assert.That(body.Whole, Is.False);
        Assert.That(body.Span.ToArray(), Is.EqualTo(payload[..30_000]));
    }

    [Test]
    public async Task ABufferedBody_IsRewound_SoItCanBeForwardedWhole()
    {
        var payload = Payload(1000);
        var request = Request(payload, seekable: true, declareLength: true);
        request.Body.Position = 300;
        using (await BufferedBody.ReadAsync(request, 10, default))
        {
        }

        Assert.That(request.Body.Position, Is.Zero);
        using var again = await BufferedBody.ReadAsync(request, 5000, default);
        Assert.That(again.Span.ToArray(), Is.EqualTo(payload), "read from the start, whatever the position before");
    }

    [Test]
    public async Task AfterDispose_TheBytesAreGone()
    {
        var body = await BufferedBody.ReadAsync(Request(Payload(10), seekable: true, declareLength: true), 100, default);
        body.Dispose();
        body.Dispose();
        Assert.That(() => body.Memory, Throws.TypeOf<ObjectDisposedException>());
    }

    // A chunked request body as Kestrel gives it: readable once, no length, arriving in pieces.
    private sealed class ForwardOnlyStream(byte[] payload) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 1500), payload.Length - _position);
            payload.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
