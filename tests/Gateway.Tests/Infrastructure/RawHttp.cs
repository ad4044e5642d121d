using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// HTTP/1.1 over a plain socket, for requests HttpClient will not send: non-ASCII header bytes, CONNECT, malformed
/// or stalling chunked bodies. Every request is sent with <c>Connection: close</c> and read to the end.
/// </summary>
public static class RawHttp
{
    /// <summary>Sends the head (request line and headers, without the blank line), then lets <paramref name="body"/> write what follows.</summary>
    public static async Task<RawResponse> SendAsync(Uri address, string head, Func<Stream, Task>? body = null, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port, cancel.Token);
        var stream = client.GetStream();
        var text = head.TrimEnd('\r', '\n') + $"\r\nHost: {address.Authority}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text), cancel.Token);
        if (body is not null)
        {
            try
            {
                await body(stream);
            }
            catch (IOException)
            {
                // The server may answer (and close) before the whole body is written, e.g. a 413.
            }
        }

        var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received, cancel.Token);
        }
        catch (IOException)
        {
            // A reset after the answer: keep what arrived.
        }

        return RawResponse.Parse(received.ToArray());
    }

    /// <summary>Writes <paramref name="data"/> as HTTP/1.1 chunks of <paramref name="chunkSize"/> bytes, then the last chunk.</summary>
    public static async Task WriteChunkedAsync(Stream stream, byte[] data, int chunkSize)
    {
        var buffer = new MemoryStream();
        for (var offset = 0; offset < data.Length; offset += chunkSize)
        {
            var length = Math.Min(chunkSize, data.Length - offset);
            buffer.Write(Encoding.ASCII.GetBytes(length.ToString("x") + "\r\n"));
            buffer.Write(data, offset, length);
            buffer.Write("\r\n"u8);
            if (buffer.Length > 256 * 1024)
            {
                await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
                buffer.SetLength(0);
            }
        }

        buffer.Write("0\r\n\r\n"u8);
        await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }
}

/// <summary>A parsed HTTP/1.1 response.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public static RawResponse Parse(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return new RawResponse(0, new Dictionary<string, string>(), text);
        }

        var lines = text[..end].Split("\r\n");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            headers[line[..colon]] = line[(colon + 1)..].Trim();
        }

        var body = text[(end + 4)..];
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }

        return new RawResponse(int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers, body);
    }

    private static string Dechunk(string body)
    {
        var result = new StringBuilder();
        var at = 0;
        while (at < body.Length)
        {
            var lineEnd = body.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (lineEnd < 0)
            {
                break;
            }

            var size = Convert.ToInt32(body[at..lineEnd].Split(';')[0], 16);
            if (size == 0)
            {
                break;
            }

            result.Append(body, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }

        return result.ToString();
    }
}
