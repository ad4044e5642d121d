using Gateway.Errors;
using Gateway.Hosting;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Http;
using Gateway.Transforms.Passthrough;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Tasks;
using Yarp.ReverseProxy;

namespace Gateway.Routing;

/// <summary>
/// On task routes (<c>/v1/ai/generate</c>, <c>/v1/ai/summarize</c>, and the OpenAI-compatible chat completions API):
/// reads and validates the internal request (or OpenAI's, translated into it), listing
/// every fault; resolves the model alias to a provider; checks the client may use it; moves the call to that
/// provider's cluster; and has the call planned (<see cref="TaskPlanner"/>), replacing the body with the vendor's request. The task transforms then forward it and translate the answer. On passthrough model
/// calls, reads the model the (now buffered) body names into the call's record.
/// </summary>
internal sealed class TaskRequestMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, IProxyStateLookup proxy, ProviderSwitches switches, ProblemWriter problems)
{
    // Not async for a passthrough call whose body is held in memory (read at once): no frame of its own around the rest.
    public Task InvokeAsync(HttpContext context)
    {
        if (TaskRoutes.TryGetTask(context.GetReverseProxyFeature().Route.Config.Metadata, out var task))
        {
            return TaskAsync(context, task);
        }

        if (context.GetCallState()?.Record is { Operation: not null } passthrough)
        {
            var model = RequestModel.ReadAsync(context.Request, context.RequestAborted);
            if (!model.IsCompletedSuccessfully)
            {
                return ModelThenNextAsync(context, passthrough, model);
            }

            passthrough.Model = model.Result;
        }

        return next(context);
    }

    private async Task ModelThenNextAsync(HttpContext context, CallRecord passthrough, ValueTask<string?> model)
    {
        passthrough.Model = await model;
        await next(context);
    }

    private async Task TaskAsync(HttpContext context, TaskKind task)
    {
        var current = settings.Current;
        if (!RequestContentType.IsJson(context.Request))
        {
            await problems.WriteAsync(context, ErrorCodes.UnsupportedMediaType, "Send the request as JSON with 'Content-Type: application/json'.");
            return;
        }

        // Bounded already (the body-limit step answered any body over the limit): read whole, within that bound.
        using var body = await BufferedBody.ReadAsync(context.Request, (int)Math.Min(current.MaxRequestBodyBytes, Array.MaxLength), context.RequestAborted);
        if (!body.Whole)
        {
            await problems.WriteAsync(context, RequestBodyErrors.TooLarge(current.MaxRequestBodyBytes));
            return;
        }

        ModelRoute? model = null;
        List<FieldError> errors;
        TaskRequest? request;
        if (task is TaskKind.Embeddings or TaskKind.Chat)
        {
            // The OpenAI-compatible APIs: OpenAI's request; what the serving vendor cannot take (or offer) is checked once
            // the model is resolved.
            request = task == TaskKind.Embeddings ? EmbeddingsRequestReader.Read(body.Memory, out errors) : ChatCompletionsRequestReader.Read(body.Memory, out errors);
            if (request is not null)
            {
                if (!current.TryResolveModel(request.Model, out var resolved, out var modelError))
                {
                    errors.Add(new FieldError("model", modelError));
                }
                else
                {
                    model = resolved;
                    var binding = resolved.Provider.Binding;
                    if (task == TaskKind.Embeddings)
                    {
                        EmbeddingsRequestReader.CheckVendor(request, binding.Name, binding.Vendor, errors);
                    }
                    else
                    {
                        ChatCompletionsRequestReader.CheckVendor(request, binding.Name, binding.Vendor, errors);
                        if (request.Temperature is not null && !resolved.AcceptsTemperature)
                        {
                            // The normalized API leaves it out, as configured; this API names what it cannot carry.
                            errors.Add(new FieldError("temperature", $"is not accepted by model '{request.Model}' (Gateway:Models AcceptsTemperature: false): leave it out"));
                        }
                    }
                }
            }
        }
        else
        {
            request = TaskRequestReader.Read(body.Memory, task, out errors, (name, temperature, faults) =>
            {
                if (!current.TryResolveModel(name, out var resolved, out var modelError))
                {
                    faults.Add(new FieldError("model", modelError));
                    return;
                }

                model = resolved;
                if (temperature > resolved.Provider.Binding.Vendor.MaxTemperature)
                {
                    faults.Add(new FieldError("temperature", $"must be at most {resolved.Provider.Binding.Vendor.MaxTemperature} for provider {resolved.Provider.Binding.Name}"));
                }
            });
        }

        if (request is null || model is null || errors.Count > 0)
        {
            await problems.WriteAsync(context, new GatewayError(ErrorCodes.ValidationFailed, $"The request has {errors.Count} fault(s); see errors.", errors));
            return;
        }

        var caller = context.GetGatewayCall();
        if (ProviderSwitches.Apply(model))
        {
            var chosen = await switches.ChooseAsync(model, caller?.Client.Id, request.User, request.Temperature);
            if (chosen is null)
            {
                await problems.WriteAsync(context, ErrorCodes.VendorCircuitOpen,
                    $"Every provider model '{request.Model ?? ModelRoute.DefaultAlias}' can go to is switched off (kill-switch flags); try again later.");
                return;
            }

            model = chosen;
        }

        var provider = model.Provider.Binding;
        if (caller is not null && !caller.Client.MayUseProvider(provider.Name))
        {
            await problems.WriteAsync(context, ErrorCodes.Forbidden, $"Client '{caller.Client.Id}' may not use provider '{provider.Name}'.");
            return;
        }

        if (ProviderClusters.Find(proxy, provider.Name) is not { } cluster)
        {
            await problems.WriteAsync(context, ErrorCodes.VendorUnavailable, $"No cluster in ReverseProxy:Clusters serves provider '{provider.Name}'.");
            return;
        }

        var call = TaskPlanner.Plan(task, request, model.Target(current.Prices), current.TaskPrompts);
        // The caller's state, looked up above (made now only when no caller was known).
        ((CallState?)caller ?? context.CallStateOrNew()).Record = call.Record;
        context.Features.Set(call);
        if (model.Fallbacks.Count > 0)
        {
            context.Features.Set(new TaskFallbacks(model.Fallbacks));
        }
        var vendorBody = call.VendorBody;
        context.ReassignProxyRequest(cluster);
        context.Request.Body = new MemoryStream(vendorBody, writable: false);
        context.Request.ContentLength = vendorBody.Length;
        context.Request.Headers.TransferEncoding = default;
        await next(context);
    }
}
