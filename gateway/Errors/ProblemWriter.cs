using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Hosting;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Passthrough;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Tasks;
using Gateway.Transforms.Vendors;
using Yarp.ReverseProxy.Model;

namespace Gateway.Errors;

/// <summary>
/// Writes RFC 9457 problem+json with the fields a support escalation needs: code, requestId (trace id), timestamp,
/// service, endpoint and environment, and the same as the playbook's escalation template, ready to paste
/// (<c>escalation</c>, with a sanitized sample of the payload); validation problems add <c>errors</c>, every field at fault.
/// </summary>
public sealed class ProblemWriter(GatewaySettingsMonitor settings, TimeProvider time, Gateway.Secrets.SecretRegistry secrets, IProviderDirectory providers,
    EscalationStore escalations) : IProblemResponder
{
    public const string ContentType = "application/problem+json";

    /// <summary>Problem bodies are JSON read by programs and people, never HTML: keep quotes and angle brackets readable.</summary>
    public static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Answers the request with the error; does nothing when the response has already started.</summary>
    public Task WriteAsync(HttpContext context, ErrorCode code, string detail) => WriteAsync(context, new GatewayError(code, detail));

    public async Task WriteAsync(HttpContext context, GatewayError error)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = error.Code.Status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        response.ContentLength = null;

        using (var json = new Utf8JsonWriter(response.BodyWriter, JsonOptions))
        {
            WriteObject(json, context, error);
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public void WriteObject(Utf8JsonWriter json, HttpContext context, GatewayError error)
    {
        // The outcome of the request, for metrics: whatever wrote it, this is the error the caller got.
        context.Features.Set<IGatewayErrorFeature>(new GatewayErrorFeature(error));
        var current = settings.Current;
        json.WriteStartObject();
        json.WriteString("type", error.Code.Type);
        json.WriteString("title", error.Code.Title);
        json.WriteNumber("status", error.Code.Status);
        var detail = secrets.Redact(error.Detail);
        json.WriteString("detail", detail);
        json.WriteString("code", error.Code.Code);
        var now = time.GetUtcNow().UtcDateTime;
        var endpoint = Endpoint(context.Request);
        json.WriteString("requestId", context.TraceIdentifier);
        json.WriteString("timestamp", now);
        json.WriteString("service", current.ServiceName);
        json.WriteString("endpoint", endpoint);
        json.WriteString("environment", current.Environment);
        var escalation = Escalation.Block(context.TraceIdentifier, now, current.ServiceName, endpoint, current.Environment,
            Escalation.PayloadSample(context.Request, current.PromptLog.Redactor, secrets), Escalation.ObservedError(error, detail));
        escalations.Add(context.TraceIdentifier, escalation);
        json.WriteString("escalation", escalation);
        if (error.Errors is { Count: > 0 } errors)
        {
            json.WriteStartArray("errors");
            foreach (var field in errors)
            {
                json.WriteStartObject();
                json.WriteString("field", field.Field);
                json.WriteString("message", field.Message);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        // On a passthrough route, also the members the vendor's own error bodies have, which its SDKs read; on the
        // OpenAI-compatible API, OpenAI's, with every fault and the request id in the message and the first fault's field as param.
        if (IsChatCompletions(context))
        {
            var faults = error.Errors is { Count: > 0 } listed ? string.Join("; ", listed.Select(f => $"{f.Field}: {f.Message}")) : detail;
            ChatCompletionsErrors.Write(json, error.Code.Status, error.Code.Code, secrets.Redact(faults) + $" (request id {context.TraceIdentifier})", error.Errors?.FirstOrDefault()?.Field);
        }
        else
        {
            VendorOf(context)?.WriteErrorMembers(json, error.Code.Status, error.Code.Code, detail);
        }
        json.WriteEndObject();
    }

    private static bool IsChatCompletions(HttpContext context)
        => context.Features.Get<IReverseProxyFeature>() is { } proxy
            ? TaskRoutes.TryGetTask(proxy.Route.Config.Metadata, out var task) && task is TaskKind.Chat or TaskKind.Embeddings
            : context.GetEndpoint()?.Metadata.GetMetadata<Gateway.Routing.OpenAiCompatibleEndpoint>() is not null;

    private IVendorAdapter? VendorOf(HttpContext context)
    {
        if (context.Features.Get<PassthroughCall>() is { } call)
        {
            return call.Provider.Vendor;
        }

        if (context.Features.Get<IReverseProxyFeature>() is not { } proxy || TaskRoutes.TryGetTask(proxy.Route.Config.Metadata, out _)
            || proxy.Cluster?.Config is not { } cluster)
        {
            return null;
        }

        return providers.Find(cluster.ClusterId, cluster.Metadata)?.Vendor;
    }

    // Method and path only: a query string can carry anything, credentials included.
    private static string Endpoint(HttpRequest request) => $"{request.Method} {request.PathBase}{request.Path}";
}
