using System.Text.Json;

namespace Gateway.Transforms.Http;

/// <summary>
/// The string last read of one kind of JSON value that repeats from call to call (a model name): the same text read again
/// is handed back as that string rather than made anew. Any thread may read and replace it; another text is made and
/// becomes the last.
/// </summary>
internal sealed class RecentString
{
    private string? _last;

    /// <summary>The reader's string value (it stands on a string token), as the last string when the text is the same.</summary>
    public string Read(ref Utf8JsonReader reader)
    {
        var last = Volatile.Read(ref _last);
        if (last is not null && reader.ValueTextEquals(last))
        {
            return last;
        }

        var read = reader.GetString()!;
        Volatile.Write(ref _last, read);
        return read;
    }
}
