using Gateway.Transforms.Contracts;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Vendors.Usage;

/// <summary>A call's outcome has one response reader, told once that the response has ended.</summary>
public sealed class CallOutcomeTests
{
    [Test]
    public void TheResponseReader_IsToldOnce_ThatTheResponseEnded()
    {
        var outcome = new CallOutcome();
        var reader = new Reader();
        outcome.OnComplete(reader);
        outcome.OnComplete(reader);
        var context = new DefaultHttpContext();
        outcome.Complete(context);
        outcome.Complete(context);
        Assert.That(reader.Ended, Is.EqualTo(1));
    }

    [Test]
    public void ASecondResponseReader_IsRefused()
    {
        var outcome = new CallOutcome();
        outcome.OnComplete(new Reader());
        Assert.That(() => outcome.OnComplete(new Reader()), Throws.InvalidOperationException);
    }

    private sealed class Reader : ICallOutcomeReader
    {
        public int Ended { get; private set; }

        public void ResponseEnded() => Ended++;
    }
}
