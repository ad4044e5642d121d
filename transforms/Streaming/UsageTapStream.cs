using Gateway.Transforms.Http;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Vendors;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Streaming;

/// <summary>
/// Wraps a passthrough response body: every write goes to the caller first, unchanged and unbuffered, and a copy is
/// read for the vendor's usage block (a JSON body up to 1 MiB, or SSE usage events), so token limits and budgets can
/// be settled to what was really used. What it reads goes into the call's <see cref="CallOutcome"/>; a JSON body is read
/// when the outcome completes.
/// </summary>
public sealed class UsageTapStream : Stream, ICallOutcomeReader
{
    private const int MaxJsonBytes = 1024 * 1024;
    private const int JsonStart = 4096;
    private PooledBuffer? _json;
    private SseEventParser? _sse;
    private IVendorStreamReader? _reader;
    private bool _decided;
    private bool _off;
    private readonly Stream _inner;
    private readonly HttpResponse _response;
    private readonly IVendorAdapter _vendor;
    private readonly CallOutcome _outcome;
    private int? _input;
    private int? _output;

    public UsageTapStream(Stream inner, HttpResponse response, IVendorAdapter vendor, CallOutcome outcome)
    {
        _inner = inner;
        _response = response;
        _vendor = vendor;
        _outcome = outcome;
        outcome.OnComplete(this);
    }

    /// <summary>The model the vendor says answered, when it says.</summary>
    public string? Model { get; private set; }

    /// <summary>True when a whole JSON body was seen and it carried no usage (a models list, a file…): nothing was metered.</summary>
    public bool NothingMetered { get; private set; }

    /// <summary>The usage seen so far (complete once the response has ended), or null.</summary>
    public TokenUsage? Usage => _input is null && _output is null ? null : new TokenUsage(_input ?? 0, _output ?? 0);

    /// <summary>Reads the usage of a JSON body once the response has ended.</summary>
    void ICallOutcomeReader.ResponseEnded()
    {
        if (_json is not { } json)
        {
            return;
        }

        PassthroughUsage answer;
        try
        {
            answer = _vendor.ReadUsage(json.WrittenSpan);
        }
        finally
        {
            ReleaseJson();
        }

        Model = answer.Model;
        if (answer.Usage is { } usage)
        {
            (_input, _output) = (usage.InputTokens, usage.OutputTokens);
        }

        NothingMetered = Usage is null;
        _outcome.Usage = Usage;
        _outcome.ResponseModel = Model;
        _outcome.NothingMetered = NothingMetered;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _inner.WriteAsync(buffer, cancellationToken);
        Observe(buffer.Span);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        _inner.Write(buffer, offset, count);
        Observe(buffer.AsSpan(offset, count));
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => _inner.Flush();

    private void Observe(ReadOnlySpan<byte> bytes)
    {
        if (!_decided)
        {
            _decided = true;
            var type = _response.ContentType ?? "";
            if (_response.StatusCode is < 200 or >= 300)
            {
                _off = true;
            }
            else if (type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                _sse = new SseEventParser();
                _reader = _vendor.CreateStreamReader();
            }
            else if (type.Contains("json", StringComparison.OrdinalIgnoreCase))
            {
                // Pooled, sized to the declared length when there is one (given back once the usage is read).
                var declared = _response.ContentLength is > 0 and <= MaxJsonBytes and var length ? (int)length : JsonStart;
                _json = new PooledBuffer(declared);
            }
            else
            {
                _off = true;
            }
        }

        if (_off)
        {
            return;
        }

        if (_json is { } json)
        {
            if (json.Length + bytes.Length > MaxJsonBytes)
            {
                _off = true;
                ReleaseJson();
                return;
            }

            json.Write(bytes);
        }
        else
        {
            _sse!.Feed(bytes, OnEvent);
        }
    }

    private void ReleaseJson()
    {
        if (_json is { } json)
        {
            _json = null;
            json.Dispose();
        }
    }

    private void OnEvent(string? name, ReadOnlySpan<byte> data)
    {
        try
        {
            var update = _reader!.ReadUsage(name, data, Model);
            _input = update.InputTokens ?? _input;
            _output = update.OutputTokens ?? _output;
            Model = update.Model ?? Model;
            _outcome.Usage = Usage;
            _outcome.ResponseModel = Model;
            _outcome.FinishReason = update.FinishReason ?? _outcome.FinishReason;
        }
        catch (VendorFormatException)
        {
            // An event this reader does not know (e.g. a newer event type): skip it, the caller still gets it.
        }
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
