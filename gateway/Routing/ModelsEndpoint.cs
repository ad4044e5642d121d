using System.Text.Json;
using Gateway.Auth;
using Gateway.Errors;
using Gateway.Hosting;

namespace Gateway.Routing;

/// <summary>Marks an endpoint of the OpenAI-compatible API, whose problems carry OpenAI's <c>error</c> member too.</summary>
public sealed class OpenAiCompatibleEndpoint
{
    public static readonly OpenAiCompatibleEndpoint Instance = new();
}

/// <summary>
/// <c>GET /v1/models</c> (and <c>/api/ai/v1/models</c>) of the OpenAI-compatible API: the model aliases the calling client
/// may use and the <c>provider/model</c> each stands for, in OpenAI's list shape — what an OpenAI SDK's models list or
/// an IDE assistant's model picker shows. Needs a client key, like the calls themselves.
/// </summary>
public static class ModelsEndpoint
{
    public static void MapModelsList(this IEndpointRouteBuilder endpoints)
    {
        foreach (var path in new[] { "/v1/models", "/api/ai/v1/models" })
        {
            endpoints.MapGet(path, (HttpContext context, ClientKeyAuthenticator authenticator, GatewaySettingsMonitor settings, ProblemWriter problems) =>
            {
                return CallerAuthenticationMiddleware.Identify(context, authenticator, problems, out var client)
                    ?? WriteAsync(context, client, settings.Current);
            }).WithMetadata(OpenAiCompatibleEndpoint.Instance);
        }
    }

    private static async Task WriteAsync(HttpContext context, GatewayClient client, GatewaySettings settings)
    {
        var models = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (alias, route) in settings.Models)
        {
            var provider = route.Provider.Binding.Name;
            if (client.MayUseProvider(provider))
            {
                models.TryAdd(alias, provider);
                models.TryAdd($"{provider}/{route.ModelId}", provider);
            }
        }

        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (var (id, provider) in models)
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("object", "model");
            json.WriteNumber("created", 0);
            json.WriteString("owned_by", provider);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
