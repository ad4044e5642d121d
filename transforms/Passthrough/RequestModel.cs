using System.Text.Json;
using Gateway.Transforms.Http;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Passthrough;

/// <summary>
/// The top-level <c>model</c> of a passthrough call's JSON body, wherever it stands among the other fields, read from
/// the buffered body within a bound; the body is rewound for forwarding.
/// </summary>
public static class RequestModel
{
    /// <summary>The most bytes read to find the model; a model named after a larger prompt goes unread.</summary>
    public const int MaxBytes = 1024 * 1024;

    private const int MaxModelLength = 256;

    // Callers name the same few models call after call.
    private static readonly RecentString Models = new();

    public static async ValueTask<string?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.Body.CanSeek || !RequestContentType.IsJson(request))
        {
            return null;
        }

        using var body = await BufferedBody.ReadAsync(request, MaxBytes, cancellationToken);
        return body.Length == 0 ? null : Find(body.Span, body.Whole);
    }

    /// <summary>The string value of the top-level "model" property, or null (not JSON, not an object, not found in the bytes given).</summary>
    public static string? Find(ReadOnlySpan<byte> json, bool isFinalBlock)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock, default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                if (!reader.Read())
                {
                    return null;
                }

                if (isModel)
                {
                    return reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= MaxModelLength ? Models.Read(ref reader) : null;
                }

                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    return null;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not JSON, or a string that cannot be decoded: no model label, the vendor judges the body.
        }

        return null;
    }
}
