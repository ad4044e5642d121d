using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Vendors;
using Microsoft.AspNetCore.Http;

namespace Gateway.Transforms.Tasks;

/// <summary>
/// Writes an answer of the OpenAI-compatible chat completions API, whatever vendor gave it: a <c>chat.completion</c>
/// object, or <c>chat.completion.chunk</c> events (a first chunk with the assistant role, one per text delta, a last one
/// with the finish reason, the usage chunk when <c>stream_options.include_usage</c> asked for it, then <c>[DONE]</c>).
/// The id is <c>chatcmpl-</c> and the request id, so an answer leads straight to the access log; the text is the model's,
/// as it is.
/// </summary>
internal sealed class ChatCompletionsOutput(HttpContext http, TaskCall call, IProblemResponder problems, TimeProvider time) : ITaskOutput
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly string _id = "chatcmpl-" + http.TraceIdentifier;
    private readonly long _created = time.GetUtcNow().ToUnixTimeSeconds();
    private readonly SseJson _sse = new(JsonOptions);
    private bool _streaming;
    private bool _roleSent;
    private TaskResponseTransform.StreamState? _state;

    // The model that answers, once the vendor's events name it (every chunk then carries it, as OpenAI's do), else the
    // model asked for (Cohere names none).
    private string Model => _state?.Model ?? call.Model;

    private bool IncludeUsage => call.Request.IncludeUsage;

    public async Task CompleteAsync(VendorResponse response)
    {
        call.Settle(response.Usage, response.FinishReason, response.Model);
        var httpResponse = http.Response;
        httpResponse.StatusCode = StatusCodes.Status200OK;
        httpResponse.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(httpResponse.BodyWriter, JsonOptions))
        {
            json.WriteStartObject();
            WriteHead(json, "chat.completion", response.Model ?? call.Model);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            if (response.ToolCalls is not null && response.Text.Length == 0)
            {
                json.WriteNull("content");
            }
            else
            {
                json.WriteString("content", response.Text);
            }

            json.WriteString("refusal", response.Refusal);
            if (response.ToolCalls is { } toolCalls)
            {
                VendorJson.WriteToolCalls(json, toolCalls);
            }

            json.WriteEndObject();
            json.WriteNull("logprobs");
            json.WriteString("finish_reason", Finish(response.FinishReason));
            json.WriteEndObject();
            json.WriteEndArray();
            WriteUsage(json, response.Usage);
            json.WriteNull("system_fingerprint");
            json.WriteEndObject();
        }

        await httpResponse.BodyWriter.FlushAsync(http.RequestAborted);
    }

    /// <summary>
    /// Sends the stream's headers; the first chunk (the assistant role) goes with the first of the others, once the
    /// vendor's first events have named the model.
    /// </summary>
    public async Task StartStreamAsync(TaskResponseTransform.StreamState state, CancellationToken cancellationToken)
    {
        _state = state;
        await TaskStream.StartAsync(http.Response, cancellationToken);
        _streaming = true;
    }

    public Task DeltaAsync(string delta, CancellationToken cancellationToken)
    {
        WriteChunk(static (json, text) => json.WriteString("content", text), delta, finish: null);
        return http.Response.BodyWriter.FlushAsync(cancellationToken).AsTask();
    }

    /// <summary>
    /// A chunk per piece: <c>"delta": {"tool_calls": [{"index", "id", "type": "function", "function": {"name", "arguments"}}]}</c>,
    /// the id, type and name on a call's first piece only, as OpenAI streams them.
    /// </summary>
    public Task ToolCallsAsync(IReadOnlyList<ToolCallDelta> toolCalls, CancellationToken cancellationToken)
    {
        WriteChunk(static (json, calls) =>
        {
            json.WriteStartArray("tool_calls");
            foreach (var call in calls)
            {
                json.WriteStartObject();
                json.WriteNumber("index", call.Index);
                if (call.Id is { } id)
                {
                    json.WriteString("id", id);
                    json.WriteString("type", "function");
                }

                json.WriteStartObject("function");
                if (call.Name is { } name)
                {
                    json.WriteString("name", name);
                }

                if (call.Arguments is { } arguments)
                {
                    json.WriteString("arguments", arguments);
                }

                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }, toolCalls, finish: null);
        return http.Response.BodyWriter.FlushAsync(cancellationToken).AsTask();
    }

    public async Task EndStreamAsync(TaskResponseTransform.StreamState state, CancellationToken cancellationToken)
    {
        var finish = state.FinishReason ?? FinishReasons.Stop;
        call.Settle(state.Usage, finish, state.Model);
        if (state.Refusal is { } refusal)
        {
            WriteChunk(static (json, text) => json.WriteString("refusal", text), refusal, finish: null);
        }

        WriteChunk(static (_, _) => { }, (string?)null, Finish(finish));
        if (call.Request.IncludeUsage)
        {
            WriteData(static (json, state) =>
            {
                json.WriteStartObject();
                state.Output.WriteHead(json, "chat.completion.chunk", state.Model);
                json.WriteStartArray("choices");
                json.WriteEndArray();
                WriteUsage(json, state.Usage ?? new TokenUsage(0, 0));
                json.WriteEndObject();
            }, (Output: this, Model, state.Usage));
        }

        http.Response.BodyWriter.Write("data: [DONE]\n\n"u8);
        await http.Response.BodyWriter.FlushAsync(cancellationToken);
    }

    /// <summary>A problem (with OpenAI's <c>error</c> member), or a chunk holding it once the stream has started; no <c>[DONE]</c> after it.</summary>
    public async Task FailAsync(GatewayError error, TokenUsage? usage = null)
    {
        call.Outcome.Usage ??= usage;
        if (!_streaming)
        {
            await problems.WriteAsync(http, error);
            return;
        }

        await TaskStream.WriteLastAsync(http, () => WriteData((json, e) => problems.WriteObject(json, http, e), error));
    }

    /// <summary>OpenAI's finish reasons are the internal ones; a vendor-side error ends the text as a stop.</summary>
    private static string Finish(string reason) => reason == FinishReasons.Error ? FinishReasons.Stop : reason;

    private void WriteHead(Utf8JsonWriter json, string kind, string model)
    {
        json.WriteString("id", _id);
        json.WriteString("object", kind);
        json.WriteNumber("created", _created);
        json.WriteString("model", model);
    }

    private static void WriteUsage(Utf8JsonWriter json, TokenUsage? usage)
    {
        if (usage is not { } known)
        {
            json.WriteNull("usage");
            return;
        }

        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", known.InputTokens);
        json.WriteNumber("completion_tokens", known.OutputTokens);
        json.WriteNumber("total_tokens", known.TotalTokens);
        json.WriteEndObject();
    }

    // One chat.completion.chunk with one choice: its delta written by <paramref name="delta"/>, and the finish reason;
    // the role chunk before the first.
    private void WriteChunk<T>(Action<Utf8JsonWriter, T> delta, T state, string? finish)
    {
        if (!_roleSent)
        {
            _roleSent = true;
            WriteChunk(static (json, _) =>
            {
                json.WriteString("role", "assistant");
                json.WriteString("content", "");
            }, (string?)null, finish: null);
        }

        WriteData(static (json, s) =>
        {
            json.WriteStartObject();
            s.Output.WriteHead(json, "chat.completion.chunk", s.Output.Model);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("delta");
            s.Delta(json, s.State);
            json.WriteEndObject();
            json.WriteNull("logprobs");
            json.WriteString("finish_reason", s.Finish);
            json.WriteEndObject();
            json.WriteEndArray();
            if (s.Output.IncludeUsage)
            {
                json.WriteNull("usage");
            }

            json.WriteEndObject();
        }, (Output: this, Delta: delta, State: state, Finish: finish));
    }

    private void WriteData<T>(Action<Utf8JsonWriter, T> data, T state)
    {
        var body = http.Response.BodyWriter;
        body.Write("data: "u8);
        _sse.Write(body, data, state);
    }
}

/// <summary>The OpenAI-compatible API's errors: OpenAI's <c>error</c> member (message, type, code, param), which its SDKs read.</summary>
public static class ChatCompletionsErrors
{
    /// <summary>Writes <c>"error": {"message", "type", "code", "param"}</c> into the open problem object.</summary>
    public static void Write(Utf8JsonWriter json, int status, string code, string message, string? param)
        => VendorJson.WriteOpenAiStyleError(json, status, code, message, param);
}
