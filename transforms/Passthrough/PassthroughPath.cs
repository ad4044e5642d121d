namespace Gateway.Transforms.Passthrough;

/// <summary>
/// The path a passthrough call forwards, taken from the request target exactly as the caller sent it: escapes stay
/// as written (a caller's <c>%2F</c> reaches the vendor as <c>%2F</c>, not <c>%252F</c>), empty segments stay
/// (<c>//x</c>), and dot segments are removed once, as the server did before routing.
/// </summary>
public static class PassthroughPath
{
    /// <summary>
    /// The raw path below the route's first <paramref name="prefixSegments"/> segments; false with the reason when the
    /// path hides a dot segment behind an encoded slash (<c>a%2F..%2Fb</c>), which a vendor could resolve past the
    /// route's allowlist.
    /// </summary>
    public static bool TryGetBelow(string rawTarget, int prefixSegments, out string path, out string? error)
    {
        path = "/";
        error = null;
        var raw = PathOf(rawTarget);
        if (raw.AsSpan().IndexOfAny('.', '%') < 0)
        {
            // The common case: nothing to normalize, nothing hidden.
            path = Below(raw, prefixSegments);
            return true;
        }

        var segments = RemoveDotSegments(raw.Split('/'));
        var start = 1 + prefixSegments;
        if (segments.Count > start)
        {
            path = "/" + string.Join('/', segments.Skip(start));
        }

        for (var i = start; i < segments.Count; i++)
        {
            var segment = segments[i];
            if (segment.Contains('%') && HidesDotSegment(segment))
            {
                error = "The path has a '.' or '..' segment behind an encoded slash (%2F or %5C); send the path without it.";
                return false;
            }
        }

        return true;
    }

    private static string Below(string path, int prefixSegments)
    {
        var at = 0;
        for (var i = 0; i <= prefixSegments; i++)
        {
            at = path.IndexOf('/', at + (i == 0 ? 0 : 1));
            if (at < 0)
            {
                return "/";
            }
        }

        return path[at..];
    }

    // Origin form "/a/b?q" (the usual), or absolute form "http://host/a/b?q" (a client speaking to a proxy).
    private static string PathOf(string target)
    {
        var end = target.IndexOfAny(['?', '#']);
        var path = end < 0 ? target : target[..end];
        if (path.StartsWith('/'))
        {
            return path;
        }

        var scheme = path.IndexOf("://", StringComparison.Ordinal);
        var slash = scheme < 0 ? -1 : path.IndexOf('/', scheme + 3);
        return slash < 0 ? "/" : path[slash..];
    }

    // RFC 3986 §5.2.4 over segments; "%2e" counts as "." (the server decoded it before normalizing).
    private static List<string> RemoveDotSegments(string[] segments)
    {
        var output = new List<string>(segments.Length);
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            if (i > 0 && IsDot(segment, out var parent))
            {
                if (parent && output.Count > 1)
                {
                    output.RemoveAt(output.Count - 1);
                }

                if (last)
                {
                    output.Add("");
                }

                continue;
            }

            output.Add(segment);
        }

        return output;
    }

    private static bool IsDot(string segment, out bool parent)
    {
        var decoded = segment.Replace("%2e", ".", StringComparison.OrdinalIgnoreCase);
        parent = decoded == "..";
        return decoded is "." or "..";
    }

    private static bool HidesDotSegment(string segment)
    {
        var opened = segment.Replace("%2f", "/", StringComparison.OrdinalIgnoreCase).Replace("%5c", "/", StringComparison.OrdinalIgnoreCase);
        return opened.Length != segment.Length && opened.Split('/').Any(p => IsDot(p, out _));
    }
}
