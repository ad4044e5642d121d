using System.Collections;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Chart;

/// <summary>
/// The JSON schema of a configuration section, read off the options types the gateway binds it to (and YARP's config
/// types for ReverseProxy): a known shape refuses unknown keys at every depth, so a misspelled nested value fails
/// <c>helm template</c> rather than being ignored by the binder.
/// </summary>
public static class ValuesSchema
{
    private const string TimeSpanPattern = @"^-?(\d+\.)?\d{1,2}:\d{2}(:\d{2}(\.\d{1,7})?)?$";

    public static JsonObject For(Type type) => Node(type, []);

    /// <summary>A dictionary keyed by id whose values are <paramref name="value"/>.</summary>
    public static JsonObject MapOf(Type value) => new() { ["type"] = "object", ["additionalProperties"] = For(value) };

    private static JsonObject Node(Type type, HashSet<Type> seen)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string) || type == typeof(Uri) || type == typeof(Version) || type.IsEnum)
        {
            return new JsonObject { ["type"] = "string" };
        }

        if (type == typeof(TimeSpan))
        {
            return new JsonObject { ["type"] = "string", ["pattern"] = TimeSpanPattern };
        }

        if (type == typeof(bool))
        {
            return new JsonObject { ["type"] = "boolean" };
        }

        if (type == typeof(int) || type == typeof(long) || type == typeof(short))
        {
            return new JsonObject { ["type"] = "integer" };
        }

        if (type == typeof(double) || type == typeof(decimal) || type == typeof(float))
        {
            return new JsonObject { ["type"] = "number" };
        }

        if (Dictionary(type) is { } value)
        {
            return new JsonObject { ["type"] = "object", ["additionalProperties"] = Node(value, seen) };
        }

        if (Element(type) is { } element)
        {
            return new JsonObject { ["type"] = "array", ["items"] = Node(element, seen) };
        }

        if (type == typeof(object) || !seen.Add(type))
        {
            return new JsonObject { ["type"] = "object" };
        }

        var properties = new JsonObject();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetIndexParameters().Length == 0).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            properties[property.Name] = Node(property.PropertyType, seen);
        }

        seen.Remove(type);
        return new JsonObject { ["type"] = "object", ["additionalProperties"] = false, ["properties"] = properties };
    }

    private static Type? Dictionary(Type type)
    {
        var map = type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(Dictionary<,>) || d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>))
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>));
        return map?.GetGenericArguments()[0] == typeof(string) ? map.GetGenericArguments()[1] : null;
    }

    private static Type? Element(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments().Length == 1 ? type.GetGenericArguments()[0] : null;
    }
}
