using Gateway.Tests.Infrastructure;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Streaming;
using Gateway.Transforms.Vendors;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Vendors.Usage;

/// <summary>
/// How a passthrough answer of one vendor and shape is metered: its documented fixture is written through the usage tap
/// in uneven pieces, as the forwarder would, and the call's outcome must carry the usage and model the vendor reported
/// — read by the vendor's adapter — while the caller gets every byte unchanged.
/// </summary>
public abstract class PassthroughUsageCase
{
    protected abstract IVendorAdapter Adapter { get; }

    /// <summary>The fixture, relative to the fixtures folder.</summary>
    protected abstract string Fixture { get; }

    protected abstract string ContentType { get; }

    protected abstract TokenUsage ExpectedUsage { get; }

    /// <summary>The model the answer names, or null when the shape names none.</summary>
    protected abstract string? ExpectedModel { get; }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(4096)]
    public async Task WholeAnswer_InPieces_IsMeteredAsTheVendorReported_AndForwardedUnchanged(int seed)
    {
        var (context, outcome, forwarded) = Tapped(StatusCodes.Status200OK);
        var body = FixtureBytes();
        await WriteInPiecesAsync(context.Response.Body, body, seed);
        outcome.Complete(context);

        Assert.Multiple(() =>
        {
            Assert.That(forwarded.ToArray(), Is.EqualTo(body), "the caller's bytes");
            Assert.That(outcome.Usage, Is.EqualTo(ExpectedUsage));
            Assert.That(outcome.ResponseModel, Is.EqualTo(ExpectedModel));
            Assert.That(outcome.NothingMetered, Is.False);
            Assert.That(outcome.FailureCode, Is.Null);
        });
    }

    // The tap holds a JSON answer in a pooled buffer sized to the declared length: exact, understated (it grows), or absent.
    [TestCase(0)]
    [TestCase(10)]
    [TestCase(-1)]
    public async Task WholeAnswer_WhateverLengthItDeclares_IsMeteredTheSame(int declared)
    {
        var (context, outcome, forwarded) = Tapped(StatusCodes.Status200OK);
        var body = FixtureBytes();
        context.Response.ContentLength = declared switch { 0 => body.Length, -1 => null, _ => declared };
        await WriteInPiecesAsync(context.Response.Body, body, seed: 3);
        outcome.Complete(context);

        AssertForwardedAndMetered(forwarded, body, outcome);
    }

    [Test]
    public async Task VendorErrorStatus_MetersNothing_AndFailsWithTheMappedCode()
    {
        var (context, outcome, _) = Tapped(StatusCodes.Status503ServiceUnavailable);
        await context.Response.Body.WriteAsync(FixtureBytes());
        outcome.Complete(context);

        Assert.Multiple(() =>
        {
            Assert.That(outcome.Usage, Is.Null, "an error answer is not read for usage");
            Assert.That(outcome.FailureCode, Is.EqualTo(ErrorCodes.VendorUnavailable.Code));
            Assert.That(outcome.ErrorType, Is.EqualTo(ErrorCodes.VendorUnavailable.Code));
        });
    }

    [Test]
    public async Task Complete_IsOnce_LaterWritesChangeNothing()
    {
        var (context, outcome, _) = Tapped(StatusCodes.Status200OK);
        var body = FixtureBytes();
        await context.Response.Body.WriteAsync(body);
        outcome.Complete(context);
        var first = outcome.Usage;
        outcome.Complete(context);
        Assert.That(outcome.Usage, Is.EqualTo(first));
    }

    /// <summary>The caller got every byte unchanged, and the call is metered as the vendor reported.</summary>
    protected void AssertForwardedAndMetered(MemoryStream forwarded, byte[] body, CallOutcome outcome) => Assert.Multiple(() =>
    {
        Assert.That(forwarded.ToArray(), Is.EqualTo(body), "the caller's bytes");
        Assert.That(outcome.Usage, Is.EqualTo(ExpectedUsage));
        Assert.That(outcome.ResponseModel, Is.EqualTo(ExpectedModel));
    });

    protected byte[] FixtureBytes() => File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, Fixture));

    protected (DefaultHttpContext Context, CallOutcome Outcome, MemoryStream Forwarded) Tapped(int status)
    {
        var context = new DefaultHttpContext();
        var forwarded = new MemoryStream();
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        var outcome = new CallOutcome();
        context.Response.Body = new UsageTapStream(forwarded, context.Response, Adapter, outcome);
        return (context, outcome, forwarded);
    }

    // Uneven pieces, so events and JSON are split at arbitrary bytes (a seed of 4096 writes whole fixtures at once).
    protected static async Task WriteInPiecesAsync(Stream stream, byte[] body, int seed)
    {
        var random = new Random(seed);
        for (var at = 0; at < body.Length;)
        {
            var length = Math.Min(body.Length - at, seed >= 4096 ? body.Length : random.Next(1, 64));
            await stream.WriteAsync(body.AsMemory(at, length));
            at += length;
        }
    }
}

/// <summary>A streamed (SSE) answer: besides the cases of every answer, what the tap does with an event it cannot read.</summary>
public abstract class PassthroughStreamUsageCase : PassthroughUsageCase
{
    // Its first text delta made not UTF-8 (a byte no UTF-8 text has): the tap cannot read that event and skips it, as it
    // skips any event it does not know. The caller still gets every byte, and the events after it are still metered.
    [Test]
    public async Task AnEventWhoseTextIsNotUtf8_IsSkipped_WhileTheCallerGetsEveryByte()
    {
        var (context, outcome, forwarded) = Tapped(StatusCodes.Status200OK);
        var body = FixtureBytes();
        var at = body.AsSpan().IndexOf("Customer requests"u8);
        Assert.That(at, Is.GreaterThan(0), "the fixture's first text delta");
        body[at] = 0xFF;
        await WriteInPiecesAsync(context.Response.Body, body, seed: 5);
        outcome.Complete(context);

        AssertForwardedAndMetered(forwarded, body, outcome);
    }
}
