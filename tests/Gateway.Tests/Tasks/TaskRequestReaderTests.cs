using System.Reflection;
using System.Text;
using System.Text.Json.Serialization;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Schema;

namespace Gateway.Tests.Tasks;

/// <summary>The task request reader alone: what a valid body binds to, and what the host's check is given.</summary>
public sealed class TaskRequestReaderTests
{
    private static TaskRequest? Read(string json, TaskKind task, out List<FieldError> errors, TaskRequestCheck? check = null)
        => TaskRequestReader.Read(Encoding.UTF8.GetBytes(json), task, out errors, check);

    [Test]
    public void EveryFieldOfTheSchema_IsBound()
    {
        var request = Read("""
            {"prompt": "Answer this.", "context": "Some text.", "system": "Be brief.",
             "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Hi \u00e9"}, {"role": "assistant", "content": "Hello"}],
             "model": "fast", "user": "u-42", "max_tokens": 321, "temperature": 0.25, "format": "markdown", "stream": true,
             "metadata": {"team": "billing", "ticket": "T-1"}}
            """, TaskKind.Generate, out var errors);

        Assert.That(errors, Is.Empty);
        Assert.That(request, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(request!.Prompt, Is.EqualTo("Answer this."));
            Assert.That(request.Context, Is.EqualTo("Some text."));
            Assert.That(request.System, Is.EqualTo("Be brief."));
            Assert.That(request.Messages, Is.EqualTo(new[]
            {
                new ChatMessage(ChatMessage.System, "S"), new ChatMessage(ChatMessage.User, "Hi é"), new ChatMessage(ChatMessage.Assistant, "Hello"),
            }));
            Assert.That(request.Model, Is.EqualTo("fast"));
            Assert.That(request.User, Is.EqualTo("u-42"));
            Assert.That(request.MaxTokens, Is.EqualTo(321));
            Assert.That(request.Temperature, Is.EqualTo(0.25));
            Assert.That(request.Format, Is.EqualTo(OutputFormats.Markdown));
            Assert.That(request.Stream, Is.True);
            Assert.That(request.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["team"] = "billing", ["ticket"] = "T-1" }));
        });
    }

    [Test]
    public void NullFields_AreAbsent_AndAFalseStreamIsKept()
    {
        var request = Read("""
            {"context": "Some text.", "prompt": null, "system": null, "model": null, "user": null, "max_tokens": null,
             "temperature": null, "format": null, "metadata": null, "stream": false}
            """, TaskKind.Summarize, out var errors);

        Assert.That(errors, Is.Empty);
        Assert.That(request, Is.EqualTo(new TaskRequest { Context = "Some text.", Stream = false }));
    }

    [Test]
    public void TheHostsCheck_GetsTheModelAndTemperature_OnlyWhenWellFormed()
    {
        var seen = new List<(string? Model, double? Temperature)>();
        TaskRequestCheck check = (model, temperature, _) => seen.Add((model, temperature));

        Read("""{"prompt": "p", "model": "openai/gpt-6-luna", "temperature": 1.5}""", TaskKind.Generate, out _, check);
        Read("""{"prompt": "p"}""", TaskKind.Generate, out _, check);
        Read("""{"prompt": "p", "model": "m", "temperature": 7}""", TaskKind.Generate, out var faults, check);
        Read("""{"prompt": "p", "model": 5, "temperature": 1}""", TaskKind.Generate, out _, check);

        Assert.That(seen, Is.EqualTo(new (string?, double?)[] { ("openai/gpt-6-luna", 1.5), (null, null), ("m", null) }));
        Assert.That(faults.Select(f => f.Field), Is.EqualTo(new[] { "temperature" }));
    }

    [Test]
    public void FaultsFoundByTheCheck_MakeTheRequestInvalid()
    {
        var request = Read("""{"prompt": "p", "model": "nope"}""", TaskKind.Generate, out var errors,
            (model, _, faults) => faults.Add(new FieldError("model", $"'{model}' is not a model")));

        Assert.That(request, Is.Null);
        Assert.That(errors, Is.EqualTo(new[] { new FieldError("model", "'nope' is not a model") }));
    }

    [Test]
    public void ARepeatedField_KnownOrNot_IsAFaultOnce_AndTheLastOccurrenceSaysWhetherItIsGiven()
    {
        var request = Read("""{"prompt": "a", "prompt": "b", "x": 1, "x": 2, "x": 3, "context": "c", "context": null}""", TaskKind.Summarize, out var errors);

        Assert.That(request, Is.Null);
        Assert.That(errors.Select(e => (e.Field, e.Message)), Is.EqualTo(new[]
        {
            ("prompt", "appears more than once"),
            ("x", "is not a field of this request"),
            ("x", "appears more than once"),
            ("x", "appears more than once"),
            ("context", "appears more than once"),
            // Its last occurrence is null: as absent as a lookup by name finds it.
            ("context", "is required: the text to summarize"),
        }));
    }

    [Test]
    public void TheReadersFieldNames_AreTheSchemaRecordsWireNames()
    {
        // The reader matches names itself; the record's attributes name the same fields (the OpenAPI document's test
        // compares those with the document).
        var wire = typeof(TaskRequest).GetProperties()
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name);
        var json = "{" + string.Join(", ", wire.Select(name => $"\"{name}\": null")) + ", \"context\": \"c\"}";

        Read(json.Replace("\"context\": null, ", ""), TaskKind.Generate, out var errors);

        Assert.That(errors.Where(e => e.Message.Contains("is not a field", StringComparison.Ordinal)), Is.Empty);
    }
}
