using System.Globalization;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Telemetry;

/// <summary>
/// <c>error.type</c> on <c>http.server.request.duration</c> for an answer of 500–599 when nothing threw: the semantic
/// conventions ask for the status code there, ASP.NET Core before 11 sets the tag only for an exception. Added by the
/// request's frame (<see cref="Gateway.Hosting.RequestFrameMiddleware"/>) in place of the ASP.NET Core instrumentation's
/// own request step, which would cost every call an async step of its own.
/// </summary>
internal static class ServerErrorType
{
    /// <summary>The instrumentation's step (a startup filter) this replaces.</summary>
    public const string InstrumentationFilter = "OpenTelemetry.Instrumentation.AspNetCore.Implementation.HttpServerErrorTypeStartupFilter";

    private const string Tag = "error.type";

    private static readonly string[] Codes = [.. Enumerable.Range(500, 100).Select(code => code.ToString(CultureInfo.InvariantCulture))];

    /// <summary>Tags a 5xx answer (the hosting meter's tags feature is there only while that meter is listened to).</summary>
    public static void Add(HttpContext context)
    {
        var status = context.Response.StatusCode;
        if (status is < 500 or > 599 || context.Features.Get<IHttpMetricsTagsFeature>() is not { } feature)
        {
            return;
        }

        var tags = feature.Tags;
        foreach (var tag in tags)
        {
            if (tag.Key == Tag)
            {
                // Set already (an exception's type): that one stands.
                return;
            }
        }

        tags.Add(new(Tag, Codes[status - 500]));
    }

    /// <summary>Takes the instrumentation's own step out of the pipeline.</summary>
    public static void RemoveInstrumentationFilter(IServiceCollection services)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IStartupFilter) && services[i].ImplementationType?.FullName == InstrumentationFilter)
            {
                services.RemoveAt(i);
            }
        }
    }
}
