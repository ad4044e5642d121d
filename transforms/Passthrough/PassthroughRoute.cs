using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Gateway.Transforms.Tasks;
using Gateway.Transforms.Vendors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing.Patterns;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Transforms.Passthrough;

/// <summary>
/// A passthrough route as configured: the literal prefix its <c>Match.Path</c> serves below (<c>/api/ai/openai</c> of
/// <c>/api/ai/openai/{**path}</c>), the calls it forwards (route Metadata <c>PassthroughAllow</c>, else the vendor's
/// defaults) and any request headers it forwards beyond the vendor's own (Metadata <c>PassthroughHeaders</c>).
/// </summary>
public sealed class PassthroughRoute
{
    /// <summary>Route metadata: the calls forwarded, comma-separated (<c>defaults, GET /v1/files/**</c>); absent means the vendor's defaults.</summary>
    public const string AllowMetadataKey = "PassthroughAllow";

    /// <summary>Route metadata: more request header names to forward, comma-separated; a trailing <c>*</c> makes a name a prefix.</summary>
    public const string HeadersMetadataKey = "PassthroughHeaders";

    /// <summary>The word in <see cref="AllowMetadataKey"/> that stands for the vendor's defaults.</summary>
    public const string DefaultsWord = "defaults";

    private static readonly ConditionalWeakTable<RouteConfig, PassthroughRoute> Cache = new();
    private static readonly string[] PathTransformKeys = ["PathPattern", "PathPrefix", "PathRemovePrefix", "PathSet"];

    private readonly ConditionalWeakTable<PassthroughProfile, HeaderAllowlist> _headers = new();
    private readonly ConditionalWeakTable<PassthroughProfile, PassthroughRule[]> _rules = new();
    private readonly CallerHeaderPolicy _policy;

    private PassthroughRoute(string prefix, int prefixSegments, IReadOnlyList<PassthroughRule>? rules, bool withDefaults, IReadOnlyList<string> headers,
        CallerHeaderPolicy policy)
    {
        _policy = policy;
        Prefix = prefix;
        PrefixSegments = prefixSegments;
        Rules = rules;
        WithDefaults = withDefaults;
        ExtraHeaders = headers;
    }

    /// <summary>The literal, decoded prefix of the route's path, without a trailing slash ("" for a route at the root).</summary>
    public string Prefix { get; }

    /// <summary>How many path segments the prefix has.</summary>
    public int PrefixSegments { get; }

    /// <summary>The route's own rules, or null when it names none.</summary>
    public IReadOnlyList<PassthroughRule>? Rules { get; }

    /// <summary>Whether the vendor's default rules apply (no rules named, or <c>defaults</c> among them).</summary>
    public bool WithDefaults { get; }

    /// <summary>Request header names (or prefixes ending in <c>*</c>) this route forwards beyond the vendor's.</summary>
    public IReadOnlyList<string> ExtraHeaders { get; }

    /// <summary>
    /// The passthrough view of a route; null for a task route or a route whose configuration is not valid (refused at
    /// load). A route's configuration belongs to one gateway, so its view is built once, with that gateway's policy.
    /// </summary>
    public static PassthroughRoute? For(RouteConfig route, CallerHeaderPolicy policy)
    {
        if (Cache.TryGetValue(route, out var cached))
        {
            return cached;
        }

        var errors = new List<string>();
        var built = Build(route, policy, errors);
        return built is null ? null : Cache.GetValue(route, _ => built);
    }

    /// <summary>Every fault of a passthrough route's configuration, for the config validator.</summary>
    public static IReadOnlyList<string> Validate(RouteConfig route, CallerHeaderPolicy policy)
    {
        var errors = new List<string>();
        Build(route, policy, errors);
        return errors;
    }

    /// <summary>The calls forwarded for a vendor: the route's rules, with the vendor's defaults where they apply.</summary>
    public PassthroughRule[] RulesFor(PassthroughProfile vendor)
        => _rules.GetValue(vendor, v => WithDefaults ? [.. v.DefaultRules, .. Rules ?? []] : [.. Rules ?? []]);

    /// <summary>The request headers forwarded to a vendor on this route.</summary>
    public HeaderAllowlist HeadersFor(PassthroughProfile vendor) => _headers.GetValue(vendor, v => new HeaderAllowlist(v, ExtraHeaders, _policy));

    /// <summary>The decoded path below the prefix (<c>/v1/models</c> of <c>/api/ai/openai/v1/models</c>), as routing matched it.</summary>
    public string PathBelow(PathString requestPath)
    {
        var value = requestPath.Value ?? "";
        var rest = value.Length >= Prefix.Length ? value[Prefix.Length..] : "";
        return rest.Length == 0 ? "/" : rest;
    }

    private static PassthroughRoute? Build(RouteConfig route, CallerHeaderPolicy policy, List<string> errors)
    {
        if (TaskRoutes.TryGetTask(route.Metadata, out _) || (route.Metadata?.ContainsKey(TaskRoutes.MetadataKey) ?? false))
        {
            return null;
        }

        var before = errors.Count;
        var name = $"Route '{route.RouteId}'";
        var (prefix, segments) = ParsePrefix(route, name, errors);
        foreach (var transform in route.Transforms ?? [])
        {
            foreach (var key in PathTransformKeys.Where(transform.ContainsKey))
            {
                errors.Add($"{name} has a {key} transform: a passthrough route forwards the path below its prefix exactly as the caller sent it; remove the transform (to add a path in front, put it in the cluster's destination address).");
            }
        }

        List<PassthroughRule>? rules = null;
        var withDefaults = true;
        if (route.Metadata?.TryGetValue(AllowMetadataKey, out var allow) == true)
        {
            rules = [];
            withDefaults = false;
            foreach (var item in allow.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (string.Equals(item, DefaultsWord, StringComparison.OrdinalIgnoreCase))
                {
                    withDefaults = true;
                }
                else if (PassthroughRule.Parse(item, out var error) is { } rule)
                {
                    rules.Add(rule);
                }
                else
                {
                    errors.Add($"{name} Metadata {AllowMetadataKey}: {error}.");
                }
            }

            if (rules.Count == 0 && !withDefaults)
            {
                errors.Add($"{name} Metadata {AllowMetadataKey} allows nothing: list calls as METHOD /path (that path) or METHOD /path/** (that path and below), or '{DefaultsWord}' for the vendor's defaults.");
            }
        }

        var headers = new List<string>();
        if (route.Metadata?.TryGetValue(HeadersMetadataKey, out var extra) == true)
        {
            foreach (var header in extra.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var bare = header.TrimEnd('*');
                var star = header.IndexOf('*');
                if (bare.Length == 0 || (star >= 0 && star != header.Length - 1) || !bare.All(IsTokenChar))
                {
                    errors.Add($"{name} Metadata {HeadersMetadataKey}: '{header}' is not a header name (or a prefix ending in '*').");
                }
                else if (policy.NeverForwarded(bare) is { } reason)
                {
                    errors.Add($"{name} Metadata {HeadersMetadataKey}: '{header}' {reason}.");
                }
                else
                {
                    headers.Add(header);
                }
            }
        }

        return errors.Count == before ? new PassthroughRoute(prefix, segments, rules, withDefaults, headers, policy) : null;
    }

    private static (string Prefix, int Segments) ParsePrefix(RouteConfig route, string name, List<string> errors)
    {
        var fix = $"write it as a fixed prefix and a catch-all, e.g. '/api/ai/{route.ClusterId ?? "vendor"}/{{**path}}'";
        if (string.IsNullOrEmpty(route.Match?.Path))
        {
            errors.Add($"{name} has no Match.Path: a passthrough route needs one; {fix}.");
            return ("", 0);
        }

        RoutePattern pattern;
        try
        {
            pattern = RoutePatternFactory.Parse(route.Match.Path);
        }
        catch (RoutePatternException ex)
        {
            errors.Add($"{name} Match.Path '{route.Match.Path}' does not parse ({ex.Message}); {fix}.");
            return ("", 0);
        }

        var literals = new List<string>();
        for (var i = 0; i < pattern.PathSegments.Count; i++)
        {
            var parts = pattern.PathSegments[i].Parts;
            var last = i == pattern.PathSegments.Count - 1;
            if (last && parts is [RoutePatternParameterPart { IsCatchAll: true }])
            {
                return (literals.Count == 0 ? "" : "/" + string.Join('/', literals), literals.Count);
            }

            if (parts is not [RoutePatternLiteralPart literal])
            {
                break;
            }

            literals.Add(literal.Content);
        }

        errors.Add($"{name} Match.Path '{route.Match.Path}' is not a passthrough path: {fix}.");
        return ("", 0);
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
}

/// <summary>
/// The request headers a passthrough call forwards: content negotiation, the vendor API's own headers and the route's
/// extra ones. Everything else a caller sends — credentials, cookies, client-IP and proxy headers, internal trace
/// baggage, method overrides, the organization or project to bill — stays with the gateway.
/// </summary>
public sealed class HeaderAllowlist
{
    /// <summary>What any passthrough call may carry, whatever the vendor.</summary>
    public static readonly IReadOnlyList<string> Common = ["Accept", "Content-Type", "Content-Length", "Content-Encoding"];

    private readonly CallerHeaderPolicy _policy;
    private readonly FrozenSet<string> _names;
    private readonly string[] _prefixes;

    internal HeaderAllowlist(PassthroughProfile vendor, IReadOnlyList<string> extra, CallerHeaderPolicy policy)
    {
        _policy = policy;
        _names = Common.Concat(vendor.RequestHeaders).Concat(extra.Where(h => !h.EndsWith('*')))
            .Where(h => policy.NeverForwarded(h) is null).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _prefixes = [.. vendor.RequestHeaderPrefixes.Concat(extra.Where(h => h.EndsWith('*')).Select(h => h.TrimEnd('*')))];
    }

    /// <summary>Whether a caller's header of this name is forwarded.</summary>
    public bool Allows(string name)
    {
        if (_names.Contains(name))
        {
            return true;
        }

        foreach (var prefix in _prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && _policy.NeverForwarded(name) is null)
            {
                return true;
            }
        }

        return false;
    }
}
