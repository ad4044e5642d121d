namespace Gateway.Hosting.OpenApi;

/// <summary>
/// Serves <c>/openapi/v1.json</c>. The normalized endpoints are YARP routes, not MVC or minimal-API endpoints, so the
/// document is written by hand (v1.json beside this file); a test keeps it in step with the schema records.
/// </summary>
internal static class OpenApiEndpoint
{
    private const string ResourceName = "Gateway.Hosting.OpenApi.v1.json";

    public static void MapOpenApiDocument(this IEndpointRouteBuilder endpoints)
    {
        using var stream = typeof(OpenApiEndpoint).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var document = buffer.ToArray();
        endpoints.MapGet("/openapi/v1.json", () => Results.Bytes(document, "application/json")).WithMetadata(Gateway.Telemetry.OperationsEndpoint.Instance);
    }
}
