using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Transforms.Tasks;

/// <summary>
/// For routes whose metadata names a task (<c>"Metadata": {"Task": "generate"}</c>): sends the vendor body to the
/// vendor's chat endpoint and translates the answer into the internal schema. Caller headers are not copied to the
/// vendor, and vendor headers are not copied back: a normalized route speaks only the internal schema.
/// </summary>
internal sealed class TaskTransformProvider(IProblemResponder problems, TimeProvider time, IGatewayDrain drain, ILogger<TaskResponseTransform> logger) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
        var metadata = context.Route.Metadata;
        if (metadata is not null && metadata.TryGetValue(TaskRoutes.MetadataKey, out var value) && !TaskRoutes.TryGetTask(metadata, out _))
        {
            context.Errors.Add(new ArgumentException(
                $"Route '{context.Route.RouteId}' has Metadata {TaskRoutes.MetadataKey} '{value}': use 'generate', 'summarize', 'chat' or 'embeddings'."));
        }
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (!TaskRoutes.TryGetTask(context.Route.Metadata, out _))
        {
            return;
        }

        context.CopyRequestHeaders = false;
        context.CopyResponseHeaders = false;
        context.CopyResponseTrailers = false;
        context.RequestTransforms.Add(new TaskRequestTransform());
        context.ResponseTransforms.Add(new TaskResponseTransform(problems, time, drain, logger));
    }
}
