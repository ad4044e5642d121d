using System.Text.Json;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Gateway.Hosting;

/// <summary>One JSON file of config/, reloaded on change only when it reads whole (see <see cref="ConfigFileSet"/>).</summary>
internal sealed class GuardedJsonConfigurationSource(ConfigFileSet set, string fileName) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new GuardedJsonConfigurationProvider(set, fileName);
}

/// <summary>
/// Unlike the stock JSON file provider, which on a reload that fails to parse empties the file's keys silently (and
/// the next change of any other file then loads the hole), a file that cannot be used keeps its last good keys and
/// raises no reload; the set reports the refusal, naming the file and the line.
/// </summary>
internal sealed class GuardedJsonConfigurationProvider : ConfigurationProvider, IDisposable
{
    // Editors and config tools may write a file in several steps; let them finish before reading it.
    private static readonly TimeSpan SettleDelay = TimeSpan.FromMilliseconds(100);

    private readonly ConfigFileSet _set;
    private readonly string _fileName;
    private readonly object _gate = new();
    private readonly IDisposable _watch;

    public GuardedJsonConfigurationProvider(ConfigFileSet set, string fileName)
    {
        _set = set;
        _fileName = fileName;
        // The file itself, and the folder's ..data link: a Kubernetes ConfigMap (or Secret) volume updates by swapping
        // that link, so the file's own link never changes and raises no event of its own.
        _watch = ChangeToken.OnChange(() => new CompositeChangeToken([set.Files.Watch(fileName), set.Files.Watch(ConfigFileSet.KubeletDataLink)]), Reload);
    }

    /// <summary>The first read: a file that cannot be used stops start-up.</summary>
    public override void Load() => Data = Read(out var error) ?? throw new InvalidDataException(error);

    private void Reload()
    {
        Thread.Sleep(SettleDelay);
        lock (_gate)
        {
            if (Read(out var error) is not { } data)
            {
                _set.Refused(_fileName, error);
                return;
            }

            _set.Accepted(_fileName);
            Data = data;
        }

        OnReload();
    }

    private IDictionary<string, string?>? Read(out string error) => Read(_set.Files, _set.Directory, _fileName, out error);

    /// <summary>One file of the config folder as configuration data; null, with the error, when it cannot be used.</summary>
    internal static IDictionary<string, string?>? Read(IFileProvider files, string directory, string fileName, out string error)
    {
        error = "";
        var fullPath = Path.Combine(directory, fileName);
        try
        {
            var file = files.GetFileInfo(fileName);
            if (!file.Exists)
            {
                error = $"{fullPath} is missing; restore it (an emptied file must still hold a JSON object).";
                return null;
            }

            using var stream = file.CreateReadStream();
            return JsonFileParser.Parse(stream);
        }
        catch (Exception ex) when (ex is JsonException or FormatException { InnerException: JsonException })
        {
            var json = ex as JsonException ?? (JsonException)ex.InnerException!;
            error = $"{fullPath} is not valid JSON at line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1}: {FirstSentence(json.Message)}";
        }
        catch (FormatException ex)
        {
            error = $"{fullPath} cannot be read as configuration: {ex.Message}";
        }
        catch (IOException ex)
        {
            error = $"{fullPath} could not be read: {ex.Message}";
        }

        return null;
    }

    // JsonException messages end with "LineNumber: n | BytePositionInLine: m.", which the error already says better.
    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }

    public void Dispose() => _watch.Dispose();

    /// <summary>The stock parser (same keys, same case-insensitivity), used on a stream read by us.</summary>
    private sealed class JsonFileParser() : JsonStreamConfigurationProvider(new JsonStreamConfigurationSource())
    {
        public static IDictionary<string, string?> Parse(Stream stream)
        {
            var parser = new JsonFileParser();
            parser.Load(stream);
            return parser.Data;
        }
    }
}
