using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Vendors;

namespace Gateway.Tests.Vendors.Acme;

/// <summary>
/// A fourth vendor that exists only in tests, with shapes unlike the other three, written only against the library's
/// public adapter contract (no internal helper): what adding a vendor takes is this folder plus configuration.
/// <list type="bullet">
/// <item><c>POST /v3/generate</c> with <c>X-Acme-Key</c>: <c>{"model","instructions","turns":[{"speaker","text"}],"limit","heat","stream"}</c>.</item>
/// <item>Answer: <c>{"id","model","output":{"text"},"stop":"done"|"limit","meter":{"in","out"}}</c>.</item>
/// <item>Stream: <c>data: {"kind":"start","id","model"}</c>, <c>{"kind":"text","text"}</c>…, <c>{"kind":"end","stop","meter"}</c>.</item>
/// <item>Errors: <c>{"problem":{"detail","reason"}}</c>; a revoked key is reason <c>key_revoked</c>.</item>
/// </list>
/// </summary>
public sealed class AcmeVendor : IVendorAdapter
{
    public const string VendorName = "acme";
    public const string KeyHeader = "X-Acme-Key";

    public string Name => VendorName;

    public IReadOnlyList<string> CredentialHeaders { get; } = [KeyHeader];

    public string ChatPath => "/v3/generate";

    public double MaxTemperature => 1.5;

    public ChatFeatures Features { get; } = new(Seed: false, JsonMode: true, MaxStop: 0);

    public void ApplyCredentials(HttpRequestHeaders headers, string apiKey) => headers.TryAddWithoutValidation(KeyHeader, apiKey);

    public byte[] WriteRequest(VendorRequest request)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", request.Model);
            if (request.System is not null)
            {
                json.WriteString("instructions", request.System);
            }

            json.WriteStartArray("turns");
            foreach (var message in request.Messages)
            {
                json.WriteStartObject();
                json.WriteString("speaker", message.Role == ChatMessage.Assistant ? "model" : "human");
                json.WriteString("text", message.Content);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("limit", request.MaxTokens);
            if (request.Temperature is { } heat)
            {
                json.WriteNumber("heat", heat);
            }

            json.WriteBoolean("stream", request.Stream);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public VendorResponse ReadResponse(ReadOnlyMemory<byte> body)
    {
        using var document = Parse(body.Span);
        var root = document.RootElement;
        if (!root.TryGetProperty("output", out var output) || !output.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
        {
            throw new VendorFormatException("the answer has no output.text");
        }

        return new VendorResponse(Text(root, "id"), Text(root, "model"), text.GetString()!, Finish(Text(root, "stop")), Meter(root));
    }

    public string? ReadErrorMessage(ReadOnlySpan<byte> body) => Problem(body, "detail");

    public bool RejectsKey(ReadOnlySpan<byte> body) => Problem(body, "reason") == "key_revoked";

    public IVendorStreamReader CreateStreamReader() => new StreamReader();

    public PassthroughUsage ReadUsage(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = Parse(body);
            return new PassthroughUsage(Meter(document.RootElement), Text(document.RootElement, "model"));
        }
        catch (VendorFormatException)
        {
            return default;
        }
    }

    public void WriteErrorMembers(Utf8JsonWriter json, int status, string code, string message)
    {
        json.WriteStartObject("problem");
        json.WriteString("detail", message);
        json.WriteString("reason", code);
        json.WriteEndObject();
    }

    public PassthroughProfile Passthrough { get; } = new(
        PassthroughRule.List("POST /v3/generate", "GET /v3/models/**"),
        RequestHeaders: ["Acme-Trace"],
        RequestHeaderPrefixes: [],
        ConfiguredOnlyHeaders: ["Acme-Billing-Unit"],
        ResponseHeadersDropped: ["Acme-Account"]);

    public string? PassthroughOperation(string method, string path)
        => method == "POST" && path == "/v3/generate" ? GenAiOperations.Chat : null;

    private static JsonDocument Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            throw new VendorFormatException("the body is not JSON: " + ex.Message);
        }
    }

    private static string? Text(JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static TokenUsage? Meter(JsonElement root)
        => root.ValueKind == JsonValueKind.Object && root.TryGetProperty("meter", out var meter) && meter.TryGetProperty("in", out var input)
            && meter.TryGetProperty("out", out var output) ? new TokenUsage(input.GetInt32(), output.GetInt32()) : null;

    private static string Finish(string? stop) => stop == "limit" ? FinishReasons.Length : FinishReasons.Stop;

    private static string? Problem(ReadOnlySpan<byte> body, string name)
    {
        try
        {
            using var document = Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("problem", out var problem)
                ? Text(problem, name) : null;
        }
        catch (VendorFormatException)
        {
            return null;
        }
    }

    private sealed class StreamReader : IVendorStreamReader
    {
        public StreamUpdate Read(string? eventName, ReadOnlySpan<byte> data)
        {
            using var document = Parse(data);
            var root = document.RootElement;
            switch (Text(root, "kind"))
            {
                case "start":
                    return new StreamUpdate(Id: Text(root, "id"), Model: Text(root, "model"));
                case "text":
                    return new StreamUpdate(Delta: Text(root, "text"));
                case "end":
                    var meter = Meter(root);
                    return new StreamUpdate(InputTokens: meter?.InputTokens, OutputTokens: meter?.OutputTokens, FinishReason: Finish(Text(root, "stop")), Completed: true);
                default:
                    return StreamUpdate.Nothing;
            }
        }
    }
}
