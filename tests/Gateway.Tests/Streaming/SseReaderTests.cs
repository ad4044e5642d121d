using System.IO.Pipelines;
using System.Text;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Vendors;

namespace Gateway.Tests.Streaming;

public sealed class SseReaderTests
{
    private static async Task<List<(string? Name, string Data)>> ReadAllAsync(string text)
    {
        await using var reader = new SseReader(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        var events = new List<(string?, string)>();
        while (await reader.ReadAsync(default))
        {
            events.Add((reader.EventName, Encoding.UTF8.GetString(reader.Data)));
        }

        return events;
    }

    [Test]
    public async Task Read_NamedAndUnnamedEvents()
        => Assert.That(await ReadAllAsync("event: a\ndata: 1\n\ndata: 2\n\n"), Is.EqualTo(new (string?, string)[] { ("a", "1"), (null, "2") }));

    [Test]
    public async Task Read_CrLfLines_CommentsAndMultiLineData()
        => Assert.That(await ReadAllAsync(": keep-alive\r\n\r\nevent: x\r\ndata: line1\r\ndata:line2\r\n\r\n"), Is.EqualTo(new (string?, string)[] { ("x", "line1\nline2") }));

    [Test]
    public async Task Read_EventCutOffByTheEnd_IsDropped()
        => Assert.That(await ReadAllAsync("data: whole\n\ndata: cut"), Is.EqualTo(new (string?, string)[] { (null, "whole") }));

    [Test]
    public async Task Read_EventSplitAcrossWrites_IsWhole()
    {
        var pipe = new Pipe();
        await using var reader = new SseReader(pipe.Reader.AsStream());
        var read = reader.ReadAsync(default).AsTask();
        await pipe.Writer.WriteAsync("event: content_block_delta\nda"u8.ToArray());
        Assert.That(read.IsCompleted, Is.False, "an incomplete event is not dispatched");
        await pipe.Writer.WriteAsync("ta: {\"x\":1}\n\nevent: next\ndata: 2\n\n"u8.ToArray());
        Assert.That(await read, Is.True);
        Assert.That(reader.EventName, Is.EqualTo("content_block_delta"));
        Assert.That(Encoding.UTF8.GetString(reader.Data), Is.EqualTo("{\"x\":1}"));
        Assert.That(await reader.ReadAsync(default), Is.True, "an event already buffered is read without waiting");
        Assert.That(reader.EventName, Is.EqualTo("next"));
        await pipe.Writer.CompleteAsync();
        Assert.That(await reader.ReadAsync(default), Is.False);
    }

    [Test]
    public void Read_EndlessLine_IsAFormatError()
    {
        var endless = new string('x', SseReader.MaxEventBytes + 100);
        Assert.That(async () => await ReadAllAsync("data: " + endless), Throws.TypeOf<VendorFormatException>());
    }
}
