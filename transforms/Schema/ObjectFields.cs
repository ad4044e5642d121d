using System.Text;
using System.Text.Json;
using Gateway.Transforms.Contracts;

namespace Gateway.Transforms.Schema;

/// <summary>
/// The fields a request reader knows, matched on their UTF-8 names: a known name is never made a string per request, and
/// its repeat is found with a bit; any other name is read, and its repeats found, only when it occurs.
/// </summary>
internal sealed class ObjectFields
{
    private readonly string[] _names;
    private readonly byte[][] _utf8;

    public ObjectFields(params string[] names)
    {
        if (names.Length > 64)
        {
            throw new ArgumentException("At most 64 known fields.", nameof(names));
        }

        _names = names;
        _utf8 = [.. names.Select(Encoding.UTF8.GetBytes)];
    }

    /// <summary>The bit of a known field in <see cref="Pass.Given"/>.</summary>
    public long Bit(string name)
    {
        var index = Array.IndexOf(_names, name);
        return index >= 0 ? 1L << index : throw new ArgumentException($"'{name}' is not a known field.", nameof(name));
    }

    /// <summary>A new pass over one object's properties.</summary>
    public Pass Start() => new(this);

    /// <summary>One pass over an object: each property's name, whether it repeats, and which known fields are given.</summary>
    public struct Pass(ObjectFields fields)
    {
        private long _seen;
        private HashSet<string>? _others;

        /// <summary>
        /// The known fields given, not null, as each one's last occurrence says (as a lookup by name finds it), repeats
        /// included.
        /// </summary>
        public long Given { get; private set; }

        /// <summary>
        /// Whether to read the property: false for a repeat of a name (the fault added) and for a null value (null means
        /// absent). The name is a known one's constant.
        /// </summary>
        public bool Take(JsonProperty property, List<FieldError> errors, out string name)
        {
            var first = Next(property, out name);
            if (!first)
            {
                errors.Add(new FieldError(name, "appears more than once"));
            }

            return first && property.Value.ValueKind != JsonValueKind.Null;
        }

        private bool Next(JsonProperty property, out string name)
        {
            var names = fields._utf8;
            for (var known = 0; known < names.Length; known++)
            {
                if (property.NameEquals(names[known]))
                {
                    name = fields._names[known];
                    var bit = 1L << known;
                    Given = property.Value.ValueKind == JsonValueKind.Null ? Given & ~bit : Given | bit;
                    var first = (_seen & bit) == 0;
                    _seen |= bit;
                    return first;
                }
            }

            name = property.Name;
            return (_others ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
        }
    }
}
