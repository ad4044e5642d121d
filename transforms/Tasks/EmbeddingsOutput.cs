using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Gateway.Transforms.Vendors;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Tasks;

/// <summary>
/// Writes an answer of the OpenAI-compatible embeddings API, whatever vendor gave it: <c>{"object": "list", "data":
/// [{"object": "embedding", "index", "embedding"}], "model", "usage": {"prompt_tokens", "total_tokens"}}</c>, each vector
/// an array of numbers or, when <c>encoding_format</c> is <c>base64</c> (the OpenAI SDKs' default), the base64 of its
/// little-endian float32s.
/// </summary>
internal static class EmbeddingsOutput
{
    public static async Task WriteAsync(HttpContext http, TaskCall call, EmbeddingsResponse answer)
    {
        var model = answer.Model ?? call.Model;
        call.Settle(answer.Usage, "stop", answer.Model);
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            for (var i = 0; i < answer.Vectors.Count; i++)
            {
                json.WriteStartObject();
                json.WriteString("object", "embedding");
                json.WriteNumber("index", i);
                if (call.Request.Base64)
                {
                    json.WriteBase64String("embedding", LittleEndian(answer.Vectors[i]));
                }
                else
                {
                    json.WriteStartArray("embedding");
                    foreach (var value in answer.Vectors[i])
                    {
                        json.WriteNumberValue(value);
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("model", model);
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", answer.Usage?.InputTokens ?? 0);
            json.WriteNumber("total_tokens", answer.Usage?.InputTokens ?? 0);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(http.RequestAborted);
    }

    private static ReadOnlySpan<byte> LittleEndian(float[] vector)
    {
        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.AsBytes(vector.AsSpan());
        }

        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return bytes;
    }
}
