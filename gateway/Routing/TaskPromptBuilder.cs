using Gateway.Hosting;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Vendors;

namespace Gateway.Routing;

/// <summary>Turns an internal request into the vendor-neutral call an adapter maps: messages, system instructions, defaults.</summary>
internal static class TaskPromptBuilder
{
    private const string Separator = "\n\n";

    public static VendorRequest Build(TaskKind task, TaskRequest request, GatewaySettings settings, ModelRoute model, string format)
    {
        var system = new List<string>(3);
        if (request.System is not null)
        {
            system.Add(request.System);
        }

        var messages = new List<ChatMessage>((request.Messages?.Count ?? 0) + 1);
        foreach (var message in request.Messages ?? [])
        {
            // Vendors differ on where system turns go; collecting them into the one system instruction works for all.
            if (message.Role == ChatMessage.System)
            {
                system.Add(message.Content);
            }
            else
            {
                messages.Add(message);
            }
        }

        if (task == TaskKind.Summarize)
        {
            messages.Add(new ChatMessage(ChatMessage.User, (request.Prompt ?? settings.SummarizeInstruction) + Separator + request.Context));
        }
        else if (request.Prompt is not null)
        {
            messages.Add(new ChatMessage(ChatMessage.User, request.Context is null ? request.Prompt : request.Prompt + Separator + request.Context));
        }
        else if (request.Context is not null)
        {
            messages.Add(new ChatMessage(ChatMessage.User, request.Context));
        }

        system.Add(settings.FormatInstructions[format]);
        return new VendorRequest(
            model.ModelId,
            string.Join(Separator, system),
            messages,
            request.MaxTokens ?? settings.DefaultMaxTokens,
            model.AcceptsTemperature ? request.Temperature : null,
            Json: format == OutputFormats.Json,
            Stream: request.Stream == true,
            ExtraFields: model.RequestFields);
    }
}
