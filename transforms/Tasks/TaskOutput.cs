using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Transforms.Formatting;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Vendors;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Tasks;

/// <summary>What both kinds of task answer do with a stream.</summary>
internal static class TaskStream
{
    /// <summary>Starts an SSE answer: 200, <c>text/event-stream</c>, neither cached nor buffered by proxies, headers sent.</summary>
    public static Task StartAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        return response.StartAsync(cancellationToken);
    }

    /// <summary>Writes the stream's last events (an error) and flushes them, unless the caller has gone.</summary>
    public static async Task WriteLastAsync(HttpContext http, Action write)
    {
        try
        {
            write();
            await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The caller is gone; there is nobody left to tell.
        }
    }
}

/// <summary>The JSON of an SSE answer's data lines, each ended by the blank line, with one writer reused for all.</summary>
internal sealed class SseJson(JsonWriterOptions options)
{
    private Utf8JsonWriter? _json;

    public void Write<T>(System.IO.Pipelines.PipeWriter body, Action<Utf8JsonWriter, T> data, T state)
    {
        if (_json is null)
        {
            _json = new Utf8JsonWriter(body, options);
        }
        else
        {
            _json.Reset(body);
        }

        data(_json, state);
        _json.Flush();
        body.Write("\n\n"u8);
    }
}

/// <summary>How a normalized call's answer is written: whole, or as a stream the vendor's events are translated into.</summary>
internal interface ITaskOutput
{
    Task CompleteAsync(VendorResponse response);

    /// <summary>Starts the answer's stream; <paramref name="state"/> is what the vendor's events say, kept current as they come.</summary>
    Task StartStreamAsync(TaskResponseTransform.StreamState state, CancellationToken cancellationToken);

    Task DeltaAsync(string delta, CancellationToken cancellationToken);

    /// <summary>Pieces of the model's tool calls (only answers to a call that gave tools have them).</summary>
    Task ToolCallsAsync(IReadOnlyList<ToolCallDelta> toolCalls, CancellationToken cancellationToken) => Task.CompletedTask;

    Task EndStreamAsync(TaskResponseTransform.StreamState state, CancellationToken cancellationToken);

    /// <summary>A problem, or the stream's own error event once it has started.</summary>
    Task FailAsync(GatewayError error, TokenUsage? usage = null);
}

/// <summary>
/// Writes a normalized call's answer: the JSON envelope, or the internal SSE events (<c>delta</c>, <c>usage</c>,
/// <c>done</c>, <c>error</c>). Streamed and non-streamed answers go through the same checks and formatting, so they
/// end with the same text.
/// </summary>
internal sealed class TaskOutput(HttpContext http, TaskCall call, IProblemResponder problems) : ITaskOutput
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    // A stream's text so far, and the piece of it formatted last (made when a stream starts; a whole answer has neither).
    private StringBuilder _raw = null!;
    private StringBuilder _formatted = null!;
    private MarkdownStripper? _stripper;
    private readonly SseJson _sse = new(JsonOptions);
    private bool _streaming;

    public async Task CompleteAsync(VendorResponse response)
    {
        call.Settle(response.Usage, response.FinishReason, response.Model);
        var error = Check(response.Text, response.FinishReason, response.Refusal, out var json);
        if (error is not null)
        {
            await problems.WriteAsync(http, error);
            return;
        }

        var output = call.Format == OutputFormats.Text ? MarkdownStripper.Strip(response.Text) : response.Text;
        var httpResponse = http.Response;
        httpResponse.StatusCode = StatusCodes.Status200OK;
        httpResponse.ContentType = "application/json; charset=utf-8";
        using (var writer = new Utf8JsonWriter(httpResponse.BodyWriter, JsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", response.Id);
            writer.WritePropertyName(call.Task == TaskKind.Summarize ? "summary" : "output");
            if (json is not null)
            {
                writer.WriteRawValue(json, skipInputValidation: true);
            }
            else
            {
                writer.WriteStringValue(output);
            }

            writer.WriteString("format", call.Format);
            writer.WriteString("provider", call.Provider);
            writer.WriteString("model", response.Model ?? call.Model);
            writer.WriteString("finish_reason", response.FinishReason);
            WriteUsage(writer, "usage", response.Usage);
            writer.WriteString("request_id", http.TraceIdentifier);
            writer.WriteEndObject();
        }

        await httpResponse.BodyWriter.FlushAsync(http.RequestAborted);
    }

    public async Task StartStreamAsync(TaskResponseTransform.StreamState state, CancellationToken cancellationToken)
    {
        await TaskStream.StartAsync(http.Response, cancellationToken);
        _streaming = true;
        (_raw, _formatted) = (new StringBuilder(), new StringBuilder());
        _stripper = call.Format == OutputFormats.Text ? new MarkdownStripper() : null;
    }

    public Task DeltaAsync(string delta, CancellationToken cancellationToken)
    {
        _raw.Append(delta);
        if (_stripper is null)
        {
            return WriteDeltaAsync(delta, cancellationToken);
        }

        _formatted.Clear();
        _stripper.Append(delta, _formatted);
        return _formatted.Length == 0 ? Task.CompletedTask : WriteDeltaAsync(_formatted.ToString(), cancellationToken);
    }

    public async Task EndStreamAsync(TaskResponseTransform.StreamState state, CancellationToken cancellationToken)
    {
        var finish = state.FinishReason ?? FinishReasons.Stop;
        call.Settle(state.Usage, finish, state.Model);
        if (_stripper is not null)
        {
            _formatted.Clear();
            _stripper.Finish(_formatted);
            if (_formatted.Length > 0)
            {
                await WriteDeltaAsync(_formatted.ToString(), cancellationToken);
            }
        }

        var error = Check(_raw.ToString(), finish, state.Refusal, out _);
        if (state.Usage is { } usage)
        {
            WriteEvent("usage", (json, u) => WriteUsageObject(json, u), usage);
        }

        if (error is not null)
        {
            WriteEvent("error", (json, e) => problems.WriteObject(json, http, e), error);
        }
        else
        {
            WriteEvent("done", static (json, s) =>
            {
                json.WriteStartObject();
                json.WriteString("finish_reason", s.Call.Outcome.FinishReason);
                json.WriteString("provider", s.Call.Provider);
                json.WriteString("model", s.Model ?? s.Call.Model);
                json.WriteString("id", s.Id);
                json.WriteString("request_id", s.RequestId);
                json.WriteEndObject();
            }, (Call: call, state.Model, state.Id, RequestId: http.TraceIdentifier));
        }

        await http.Response.BodyWriter.FlushAsync(cancellationToken);
    }

    /// <summary>A problem, or an <c>error</c> event once the stream has started (after a <c>usage</c> event when usage is known).</summary>
    public async Task FailAsync(GatewayError error, TokenUsage? usage = null)
    {
        call.Outcome.Usage ??= usage;
        if (!_streaming)
        {
            await problems.WriteAsync(http, error);
            return;
        }

        await TaskStream.WriteLastAsync(http, () =>
        {
            if (usage is { } known)
            {
                WriteEvent("usage", (json, u) => WriteUsageObject(json, u), known);
            }

            WriteEvent("error", (json, e) => problems.WriteObject(json, http, e), error);
        });
    }

    private GatewayError? Check(string text, string finishReason, string? refusal, out string? json)
    {
        json = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return finishReason == FinishReasons.ContentFilter
                ? new GatewayError(ErrorCodes.ContentFiltered, $"{call.Provider} refused or filtered the answer" + Suffix(refusal))
                : new GatewayError(ErrorCodes.EmptyCompletion, $"{call.Provider} returned no text (finish_reason: {finishReason}). Try restructuring or shortening the prompt.");
        }

        if (call.Format == OutputFormats.Json)
        {
            json = JsonOutput.Normalize(text);
            if (json is null)
            {
                return new GatewayError(ErrorCodes.InvalidModelOutput, finishReason == FinishReasons.Length
                    ? "The model's output was cut off at max_tokens before its JSON was complete; raise max_tokens."
                    : "The model's output is not valid JSON.");
            }
        }

        return null;
    }

    private static string Suffix(string? refusal)
    {
        var text = ErrorMessageSanitizer.Sanitize(refusal);
        return text.Length == 0 ? "." : ": " + text;
    }

    private Task WriteDeltaAsync(string text, CancellationToken cancellationToken)
    {
        WriteEvent("delta", static (json, t) =>
        {
            json.WriteStartObject();
            json.WriteString("text", t);
            json.WriteEndObject();
        }, text);
        return http.Response.BodyWriter.FlushAsync(cancellationToken).AsTask();
    }

    private void WriteEvent<T>(string name, Action<Utf8JsonWriter, T> data, T state)
    {
        var body = http.Response.BodyWriter;
        body.Write("event: "u8);
        Encoding.UTF8.GetBytes(name, body);
        body.Write("\ndata: "u8);
        _sse.Write(body, data, state);
    }

    private void WriteUsage(Utf8JsonWriter json, string name, TokenUsage? usage)
    {
        if (usage is not { } known)
        {
            json.WriteNull(name);
            json.WriteNull("cost_usd");
            return;
        }

        json.WritePropertyName(name);
        WriteUsageObject(json, known, withCost: false);
        if (call.Price is { } price)
        {
            json.WriteNumber("cost_usd", price.Cost(known));
        }
        else
        {
            json.WriteNull("cost_usd");
        }
    }

    private void WriteUsageObject(Utf8JsonWriter json, TokenUsage usage) => WriteUsageObject(json, usage, withCost: true);

    private void WriteUsageObject(Utf8JsonWriter json, TokenUsage usage, bool withCost)
    {
        json.WriteStartObject();
        json.WriteNumber("input_tokens", usage.InputTokens);
        json.WriteNumber("output_tokens", usage.OutputTokens);
        json.WriteNumber("total_tokens", usage.TotalTokens);
        if (withCost && call.Price is { } price)
        {
            json.WriteNumber("cost_usd", price.Cost(usage));
        }

        json.WriteEndObject();
    }
}
