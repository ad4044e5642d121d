using Gateway.Transforms.Http;

namespace Gateway.Tests.Http;

/// <summary>The pooled growable buffer: grows past its first size keeping what it holds, truncates, and is gone after dispose.</summary>
public sealed class PooledBufferTests
{
    [Test]
    public void Writes_PastItsFirstSize_KeepEverythingInOrder()
    {
        using var buffer = new PooledBuffer(16);
        var expected = new List<byte>();
        for (var i = 0; i < 100; i++)
        {
            var piece = Enumerable.Range(i, i % 7 + 1).Select(b => (byte)b).ToArray();
            buffer.Write(piece);
            expected.AddRange(piece);
        }

        Assert.That(buffer.WrittenSpan.ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void GetMemory_ThenAdvance_AlwaysOffersRoom()
    {
        using var buffer = new PooledBuffer(1);
        for (var i = 0; i < 50; i++)
        {
            var memory = buffer.GetMemory();
            Assert.That(memory.Length, Is.GreaterThan(0), "a read into it can never be taken for the end of a stream");
            memory.Span[0] = (byte)i;
            buffer.Advance(1);
        }

        Assert.That(buffer.WrittenSpan.ToArray(), Is.EqualTo(Enumerable.Range(0, 50).Select(b => (byte)b).ToArray()));
        Assert.That(() => buffer.Advance(buffer.GetMemory().Length + 1), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Truncate_KeepsTheStart_AndDispose_ReleasesIt()
    {
        var buffer = new PooledBuffer(8);
        buffer.Write("0123456789"u8);
        buffer.Truncate(4);
        Assert.That(buffer.WrittenSpan.ToArray(), Is.EqualTo("0123"u8.ToArray()));
        buffer.Dispose();
        buffer.Dispose();
        Assert.That(() => buffer.WrittenMemory, Throws.TypeOf<ObjectDisposedException>());
    }
}
