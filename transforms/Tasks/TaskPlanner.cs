using System.Collections.Frozen;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Vendors;

namespace Gateway.Transforms.Tasks;

/// <summary>What configuration says about shaping task prompts (<c>Gateway:Prompts</c>, <c>Gateway:Tasks</c>).</summary>
/// <param name="FormatInstructions">System instruction per output format (every one of <see cref="OutputFormats"/>).</param>
public sealed record TaskPrompts(string SummarizeInstruction, FrozenDictionary<string, string> FormatInstructions, int DefaultMaxTokens);

/// <summary>Where a normalized call goes: a provider, the vendor's model id and what configuration says of it.</summary>
/// <param name="RequestFields">Vendor-specific request fields (name, JSON value) configuration adds for the model.</param>
/// <param name="Price">The model's price, when the price table has it.</param>
public sealed record TaskTarget(ProviderBinding Provider, string ModelId, bool AcceptsTemperature, IReadOnlyList<KeyValuePair<string, string>> RequestFields, ModelPrice? Price);

/// <summary>
/// Plans a normalized call: a validated internal request and a target become the vendor-neutral request, the vendor's
/// body and the call's record. Planning depends on nothing but its inputs, so the same request can be planned again for
/// another target (<see cref="TaskCall.RetargetTo"/>) — what falling back to another provider needs.
/// </summary>
public static class TaskPlanner
{
    private const string Separator = "\n\n";

    public static TaskCall Plan(TaskKind task, TaskRequest request, TaskTarget target, TaskPrompts prompts)
    {
        if (task == TaskKind.Embeddings)
        {
            return PlanEmbeddings(request, target, prompts);
        }

        var format = request.Format ?? OutputFormats.Text;
        var vendorRequest = Shape(task, request, target, prompts, format);
        var vendorBody = target.Provider.Vendor.WriteRequest(vendorRequest);
        var record = new CallRecord
        {
            Provider = target.Provider.Name,
            Operation = GenAiOperations.Chat,
            Model = target.ModelId,
            LimitModel = target.ModelId,
            EstimatedInputTokens = InputEstimate(vendorBody.Length, request),
            MaxOutputTokens = vendorRequest.MaxTokens,
            Stream = vendorRequest.Stream,
            AnsweredWhole = !vendorRequest.Stream,
            User = request.User,
            Price = target.Price,
        };

        return new TaskCall
        {
            Task = task,
            Request = request,
            Target = target,
            Prompts = prompts,
            Format = format,
            MaxTokens = vendorRequest.MaxTokens,
            VendorBody = vendorBody,
            Record = record,
        };
    }

    // Texts to vectors: input tokens estimated from the texts' length, no output tokens.
    private static TaskCall PlanEmbeddings(TaskRequest request, TaskTarget target, TaskPrompts prompts)
    {
        var inputs = request.Inputs ?? [];
        var vendorBody = target.Provider.Vendor.WriteEmbeddingsRequest(new EmbeddingsRequest(target.ModelId, inputs, request.Dimensions));
        return new TaskCall
        {
            Task = TaskKind.Embeddings,
            Request = request,
            Target = target,
            Prompts = prompts,
            Format = OutputFormats.Verbatim,
            MaxTokens = 0,
            VendorBody = vendorBody,
            Record = new CallRecord
            {
                Provider = target.Provider.Name,
                Operation = GenAiOperations.Embeddings,
                Model = target.ModelId,
                LimitModel = target.ModelId,
                EstimatedInputTokens = inputs.Sum(i => i.Length) / CallRecord.CharsPerToken + 1,
                MaxOutputTokens = 0,
                AnsweredWhole = true,
                User = request.User,
                Price = target.Price,
            },
        };
    }

    /// <summary>The vendor-neutral call an adapter maps: messages, system instructions merged, defaults applied.</summary>
    public static VendorRequest Shape(TaskKind task, TaskRequest request, TaskTarget target, TaskPrompts prompts, string format)
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
            messages.Add(new ChatMessage(ChatMessage.User, (request.Prompt ?? prompts.SummarizeInstruction) + Separator + request.Context));
        }
        else if (request.Prompt is not null)
        {
            messages.Add(new ChatMessage(ChatMessage.User, request.Context is null ? request.Prompt : request.Prompt + Separator + request.Context));
        }
        else if (request.Context is not null)
        {
            messages.Add(new ChatMessage(ChatMessage.User, request.Context));
        }

        // The verbatim format (the OpenAI-compatible API) has no instruction: the caller's messages are sent as they are.
        if (prompts.FormatInstructions.TryGetValue(format, out var instruction))
        {
            system.Add(instruction);
        }

        return new VendorRequest(
            target.ModelId,
            system.Count == 0 ? null : string.Join(Separator, system),
            messages,
            request.MaxTokens ?? prompts.DefaultMaxTokens,
            target.AcceptsTemperature ? request.Temperature : null,
            Json: format == OutputFormats.Json || request.JsonMode,
            Stream: request.Stream == true,
            ExtraFields: target.RequestFields,
            TopP: request.TopP,
            Stop: request.Stop,
            Seed: request.Seed,
            JsonSchema: request.JsonSchema,
            Tools: request.Tools,
            ToolChoice: request.ToolChoice,
            ParallelToolCalls: request.ParallelToolCalls);
    }

    /// <summary>Most tokens a vendor counts for one image (Anthropic's ceiling for a full-size image; OpenAI's high detail stays below it).</summary>
    public const int TokensPerImage = 1_600;

    // The body's text at the usual characters per token; an image counts as the tokens a vendor charges for one, not as
    // the length of its base64.
    private static int InputEstimate(int bodyLength, TaskRequest request)
    {
        var images = 0;
        long imageChars = 0;
        foreach (var message in request.Messages ?? [])
        {
            foreach (var part in message.Parts ?? [])
            {
                if (part.Image is { } image)
                {
                    images++;
                    imageChars += image.Url.Length;
                }
            }
        }

        return (int)(Math.Max(0, bodyLength - imageChars) / CallRecord.CharsPerToken) + images * TokensPerImage;
    }
}
