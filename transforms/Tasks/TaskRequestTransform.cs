using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Transforms.Tasks;

/// <summary>Points a normalized call at the vendor's chat (or embeddings) endpoint and describes the vendor body the host put in place.</summary>
internal sealed class TaskRequestTransform : RequestTransform
{
    private const string Json = "application/json";
    private const string Events = "text/event-stream";

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        if (context.HttpContext.Features.Get<TaskCall>() is not { } call)
        {
            return ValueTask.CompletedTask;
        }

        context.Path = call.VendorPath;
        // The caller's query string is not the vendor's (asked for only when there is one: the query's collection is built
        // on first use, and rebuilt into a string).
        if (context.HttpContext.Request.QueryString.HasValue)
        {
            context.Query.Collection.Clear();
        }

        // Added as text (constant values): no parsed header values, value lists or per-header stores made per call.
        context.ProxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Accept, call.Stream ? Events : Json);
        if (context.ProxyRequest.Content is { } content)
        {
            content.Headers.Remove(HeaderNames.ContentType);
            content.Headers.TryAddWithoutValidation(HeaderNames.ContentType, Json);
            content.Headers.ContentLength = call.VendorBody.Length;
        }

        return ValueTask.CompletedTask;
    }
}
