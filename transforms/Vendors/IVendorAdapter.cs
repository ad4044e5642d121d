using Gateway.Transforms.Schema;
using System.Net.Http.Headers;

namespace Gateway.Transforms.Vendors;

/// <summary>
/// Everything the gateway knows about one vendor's API: credentials, and the mapping between the internal schema and
/// the vendor's chat endpoint (request, response, stream, errors). One implementation per folder under Vendors/.
/// </summary>
public interface IVendorAdapter
{
    /// <summary>The vendor's name as written in configuration (<c>Gateway:Providers:{name}:Vendor</c>).</summary>
    string Name { get; }

    /// <summary>Request headers that carry a credential for this vendor; they are removed from every caller request.</summary>
    IReadOnlyList<string> CredentialHeaders { get; }

    /// <summary>Puts the vendor key on the outgoing request in the vendor's own scheme, plus any header the vendor requires.</summary>
    void ApplyCredentials(HttpRequestHeaders headers, string apiKey);

    /// <summary>Path of the chat endpoint below the cluster's address, e.g. <c>/v1/chat/completions</c>.</summary>
    string ChatPath { get; }

    /// <summary>Path of the embeddings endpoint below the cluster's address, or null when the vendor offers none.</summary>
    string? EmbeddingsPath => null;

    /// <summary>Whether the vendor's embeddings can be asked for a vector size.</summary>
    bool EmbeddingDimensions => false;

    /// <summary>The vendor's JSON request body for an embeddings call (only when <see cref="EmbeddingsPath"/> is set).</summary>
    byte[] WriteEmbeddingsRequest(EmbeddingsRequest request) => throw new NotSupportedException($"{Name} offers no embeddings");

    /// <summary>Maps a successful embeddings answer; throws <see cref="VendorFormatException"/> when it is not the documented shape.</summary>
    EmbeddingsResponse ReadEmbeddingsResponse(ReadOnlyMemory<byte> body) => throw new NotSupportedException($"{Name} offers no embeddings");

    /// <summary>Highest sampling temperature the vendor accepts.</summary>
    double MaxTemperature { get; }

    /// <summary>What the vendor's chat API takes beyond messages (seed, JSON mode, stop sequences).</summary>
    ChatFeatures Features { get; }

    /// <summary>The vendor's JSON request body for a normalized call.</summary>
    byte[] WriteRequest(VendorRequest request);

    /// <summary>Maps a successful (2xx) non-streamed response; throws <see cref="VendorFormatException"/> when it is not the documented shape.</summary>
    VendorResponse ReadResponse(ReadOnlyMemory<byte> body);

    /// <summary>The human-readable message of a vendor error body, or null when there is none.</summary>
    string? ReadErrorMessage(ReadOnlySpan<byte> body);

    /// <summary>
    /// Whether a 401 body says the key itself is invalid (wrong, revoked, expired) — the only verdict that makes the
    /// gateway re-read the key or move to another one. Other 401s (a restricted key's missing scope, say) concern one
    /// call, and one caller must not be able to steer every caller's key with them.
    /// </summary>
    bool RejectsKey(ReadOnlySpan<byte> body);

    /// <summary>A translator for one SSE stream of this vendor.</summary>
    IVendorStreamReader CreateStreamReader();

    /// <summary>
    /// The usage and model a passthrough JSON answer reports, whatever the call (chat, Responses, embeddings…); a null
    /// usage when the answer meters nothing (a models list, a token count).
    /// </summary>
    PassthroughUsage ReadUsage(ReadOnlySpan<byte> body);

    /// <summary>
    /// Writes, into a problem the gateway answers on this vendor's passthrough routes, the members the vendor's own
    /// error bodies have (e.g. <c>"error": {"message", "type", "code"}</c>), so the vendor's SDKs show the gateway's
    /// message and code rather than "no body".
    /// </summary>
    void WriteErrorMembers(System.Text.Json.Utf8JsonWriter json, int status, string code, string message);

    /// <summary>What this vendor's passthrough routes forward by default, and which headers go through.</summary>
    PassthroughProfile Passthrough { get; }

    /// <summary>
    /// The GenAI operation (<c>gen_ai.operation.name</c>: chat, embeddings, text_completion) of a passthrough call, from
    /// its method and path below the route's prefix; null when the call is not a model call (models list, token count…).
    /// </summary>
    string? PassthroughOperation(string method, string path);

    /// <summary>
    /// How long a throttled or failing answer asks the caller to wait before trying again, or null when it does not
    /// say. The default reads the HTTP <c>Retry-After</c> (seconds or a date); vendors with headers of their own add them.
    /// </summary>
    TimeSpan? RetryAfter(HttpResponseHeaders headers, DateTimeOffset now) => RetryAfterHeader.Read(headers, now);
}

/// <summary>The HTTP <c>Retry-After</c> header (RFC 9110 §10.2.3): a number of seconds, or a date.</summary>
public static class RetryAfterHeader
{
    public static TimeSpan? Read(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.RetryAfter is not { } value)
        {
            return null;
        }

        if (value.Delta is { } delta)
        {
            return delta;
        }

        return value.Date is { } date ? (date > now ? date - now : TimeSpan.Zero) : null;
    }
}

/// <summary>What a passthrough answer reports of its own cost.</summary>
public readonly record struct PassthroughUsage(TokenUsage? Usage, string? Model);

/// <summary>Translates one vendor SSE stream, event by event.</summary>
public interface IVendorStreamReader
{
    /// <summary>What one SSE event means; throws <see cref="VendorFormatException"/> for an event that cannot be read.</summary>
    StreamUpdate Read(string? eventName, ReadOnlySpan<byte> data);

    /// <summary>
    /// What one SSE event says of the call's usage, response model and finish — all a passthrough stream's usage tap
    /// reads, on every event — exactly as <see cref="Read"/> gives them (and throwing when it throws); the other fields
    /// are left empty. <paramref name="model"/> is the model the stream named so far: a reader may hand back that same
    /// string when the event names it again, rather than a new one per event. By default, the event is read whole.
    /// </summary>
    StreamUpdate ReadUsage(string? eventName, ReadOnlySpan<byte> data, string? model) => StreamUpdate.UsageOf(Read(eventName, data));
}

/// <summary>A vendor answer that is not the documented shape.</summary>
public sealed class VendorFormatException(string message) : Exception(message);
