using System.Text.Json;
using Gateway.Transforms.Schema;

namespace Gateway.Transforms.Vendors;

/// <summary>JSON helpers shared by the adapters.</summary>
internal static class VendorJson
{
    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <c>messages</c>, with the system instruction first as a <c>system</c> message (OpenAI and Cohere style).</summary>
    public static void WriteMessages(Utf8JsonWriter json, VendorRequest request, bool systemAsMessage)
    {
        json.WriteStartArray("messages");
        if (systemAsMessage && request.System is not null)
        {
            WriteMessage(json, ChatMessage.System, request.System);
        }

        foreach (var message in request.Messages)
        {
            WriteMessage(json, message.Role, message.Content);
        }

        json.WriteEndArray();
    }

    private static void WriteMessage(Utf8JsonWriter json, string role, string content)
    {
        json.WriteStartObject();
        json.WriteString("role", role);
        json.WriteString("content", content);
        json.WriteEndObject();
    }

    public static JsonDocument Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            return JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new VendorFormatException("the vendor's body is not valid JSON (" + ex.Message + ")");
        }
    }

    public static string? String(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static int? Int(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    public static JsonElement Child(this JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    /// <summary>The error message of the common <c>{"error": {"message": …}}</c> / <c>{"message": …}</c> shapes.</summary>
    public static string? ErrorMessage(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = Parse(body);
            var root = document.RootElement;
            return root.Child("error").String("message") ?? root.String("message") ?? root.String("error");
        }
        catch (VendorFormatException)
        {
            return null;
        }
    }
}
