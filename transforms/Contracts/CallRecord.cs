using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Transforms.Contracts;

/// <summary>
/// One vendor call as the gateway resolved it, set once on the request's features where the call is resolved (the
/// passthrough policy for passthrough routes, the task request step for normalized routes). Limiting and telemetry read
/// this and <see cref="Outcome"/>, and nothing else of vendors or tasks.
/// </summary>
public sealed class CallRecord
{
    /// <summary>Characters per token for an estimate made before the vendor counts.</summary>
    public const int CharsPerToken = 4;

    /// <summary>The longest end-user or session id a call may name (body field or header).</summary>
    public const int MaxUserLength = Schema.SchemaLimits.MaxUserLength;

    /// <summary>The provider serving the call (a key of <c>Gateway:Providers</c>).</summary>
    public required string Provider { get; init; }

    /// <summary>The GenAI operation (<c>gen_ai.operation.name</c>), or null when the call is not a model call (a models list…).</summary>
    public string? Operation { get; init; }

    /// <summary>The model asked for: a task's resolved model id; a passthrough body's top-level <c>model</c>, once read.</summary>
    public string? Model { get; set; }

    /// <summary>
    /// What per-model limits count the call under: a task's model; a passthrough call's provider (the model in its body
    /// is whatever the caller wrote).
    /// </summary>
    public required string LimitModel { get; init; }

    /// <summary>Input tokens estimated before the call; null to estimate them from the request body's size.</summary>
    public int? EstimatedInputTokens { get; init; }

    /// <summary>The most output tokens the call may generate; null when the call does not say (limiting reserves its default).</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>Whether the caller asked for a streamed answer (known for normalized calls).</summary>
    public bool Stream { get; init; }

    /// <summary>
    /// Whether the caller's answer starts only once the vendor's is complete (a normalized call that is not streamed),
    /// so its first byte is its last; otherwise the vendor's first bytes reach the caller as they come.
    /// </summary>
    public bool AnsweredWhole { get; init; }

    /// <summary>The end user the request's body names, if any.</summary>
    public string? User { get; init; }

    /// <summary>The model's price when it is known before the call; else the call is priced by the model that answered.</summary>
    public ModelPrice? Price { get; init; }

    /// <summary>What came of the call, filled by the response side.</summary>
    public CallOutcome Outcome { get; } = new();
}

/// <summary>
/// What came of a call, in numbers and codes only: the usage and model the vendor reported, why it stopped, and whether
/// and how it failed. Filled by the response side (the task transforms, or the passthrough usage tap);
/// <see cref="Complete"/> settles it once the response has ended.
/// </summary>
public sealed class CallOutcome
{
    /// <summary>The error type of a call the caller abandoned: not the vendor's fault, not the gateway's.</summary>
    public const string ClientDisconnected = "client_disconnected";

    private ICallOutcomeReader? _reader;
    private bool _completed;

    /// <summary>Token usage the vendor reported (so far, for a stream cut short), or null.</summary>
    public TokenUsage? Usage { get; set; }

    /// <summary>The model the vendor says answered, when it says.</summary>
    public string? ResponseModel { get; set; }

    /// <summary>Why the model stopped, when known (one of the internal finish reasons).</summary>
    public string? FinishReason { get; set; }

    /// <summary>True when a whole answer was seen and it metered nothing (a models list, a file…).</summary>
    public bool NothingMetered { get; set; }

    /// <summary>The gateway error code the call failed with (a vendor status mapped to one), or null; set by <see cref="Complete"/>.</summary>
    public string? FailureCode { get; private set; }

    /// <summary><see cref="ClientDisconnected"/> when the caller went away, else <see cref="FailureCode"/>; set by <see cref="Complete"/>.</summary>
    public string? ErrorType { get; private set; }

    /// <summary>
    /// Registers what the response side still has to read when the response ends (e.g. a JSON body's usage): one reader a
    /// call, the response's (a second replaces nothing and is refused).
    /// </summary>
    public void OnComplete(ICallOutcomeReader reader)
    {
        if (_reader is not null && !ReferenceEquals(_reader, reader))
        {
            throw new InvalidOperationException("The call's outcome already has its response reader.");
        }

        _reader = reader;
    }

    /// <summary>
    /// Once the response has ended: lets the response side finish reading, and works out whether, and how, the call
    /// failed — a gateway error, a forwarding error, or a vendor error status. Later calls change nothing.
    /// </summary>
    public void Complete(HttpContext context)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _reader?.ResponseEnded();
        _reader = null;
        FailureCode = Failure(context);
        ErrorType = context.RequestAborted.IsCancellationRequested ? ClientDisconnected : FailureCode;
    }

    // One vocabulary: the gateway's error codes (a vendor's own error status maps to the code a normalized route would answer with).
    private static string? Failure(HttpContext context)
    {
        if (context.Features.Get<IGatewayErrorFeature>() is { } error)
        {
            return error.Error.Code.Code;
        }

        if (context.Features.Get<IForwarderErrorFeature>() is { } failure)
        {
            return failure.Error == ForwarderError.RequestTimedOut ? ErrorCodes.VendorTimeout.Code : ErrorCodes.VendorUnavailable.Code;
        }

        return context.Response.StatusCode >= StatusCodes.Status400BadRequest ? ErrorCodes.ForVendorStatus(context.Response.StatusCode).Code : null;
    }
}

/// <summary>What reads a call's response for its <see cref="CallOutcome"/>, and finishes reading when the response has ended.</summary>
public interface ICallOutcomeReader
{
    /// <summary>The response has ended: what is still to read (a whole JSON body) is read into the outcome.</summary>
    void ResponseEnded();
}

/// <summary>The GenAI semantic conventions' operation names.</summary>
public static class GenAiOperations
{
    public const string Chat = "chat";
    public const string Embeddings = "embeddings";
    public const string TextCompletion = "text_completion";
}
