using System.Text.Json;
using Gateway.Transforms.Contracts;

namespace Gateway.Transforms.Vendors;

/// <summary>
/// Messages in a request body as the vendors and the internal schema write them: the items of a top-level
/// <c>messages</c> array (OpenAI chat, Anthropic, Cohere, the internal schema) or <c>input</c> array (Responses API);
/// a top-level <c>prompt</c> or string <c>input</c> is one message.
/// </summary>
public sealed class PromptShape : IPromptShape
{
    public int? MessageCount(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            int? count = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                var counted = name.SequenceEqual("messages"u8) || name.SequenceEqual("input"u8);
                var single = name.SequenceEqual("prompt"u8) || name.SequenceEqual("input"u8);
                reader.Read();
                if (counted && reader.TokenType == JsonTokenType.StartArray)
                {
                    var items = 0;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        items++;
                        reader.Skip();
                    }

                    count = (count ?? 0) + items;
                }
                else
                {
                    if (single && reader.TokenType == JsonTokenType.String)
                    {
                        count = (count ?? 0) + 1;
                    }

                    reader.Skip();
                }
            }

            return count;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
