using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Gateway.Tests.Functional;

/// <summary>
/// Seeded fuzzing of the normalized endpoints and the OpenAI-compatible chat completions route over HTTP: thousands of mutated bodies (byte flips, cuts, repeats,
/// hostile tokens such as lone surrogate escapes, control bytes and invalid UTF-8, type swaps), each answered 2xx or
/// with a 4xx problem — never a 5xx, never a hang. The seed is fixed, so a failure names a body that reproduces.
/// </summary>
public sealed class NormalizedEndpointFuzzTests : GatewayFixture
{
    // Fixed, so CI is repeatable; GATEWAY_FUZZ_SEED explores other bodies locally.
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_FUZZ_SEED"), out var seed) ? seed : 20261127;
    private const int Bodies = 3000;
    private const int Parallelism = 8;

    private static readonly string[] Valid =
    [
        """{"prompt":"Summarize the following email.","context":"Please review the attached invoice and confirm delivery times for Q3."}""",
        """{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"List three Q3 risks."}],"model":"fast","max_tokens":64,"temperature":0.2,"format":"markdown","user":"u-17","metadata":{"team":"billing"}}""",
        """{"prompt":"Answer as JSON.","model":"command","format":"json","stream":false}""",
        """{"prompt":"Stream it.","model":"openai/gpt-6-luna","stream":true,"system":"Plain text only."}""",
        """{"context":"Quarterly report text.","prompt":"Summarize.","model":"smart","format":"text"}""",
    ];

    // The OpenAI-compatible route's requests: tools, tool turns, images, structured output, streams.
    private static readonly string[] ChatValid =
    [
        """{"model":"default","messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Invoice status?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"auto"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_invoice","arguments":"{\"id\":\"INV-1\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"paid"}],"tools":[{"type":"function","function":{"name":"get_invoice","description":"Look up an invoice.","parameters":{"type":"object","properties":{"id":{"type":"string"}}},"strict":true}}],"tool_choice":"auto","max_completion_tokens":64}""",
        """{"model":"smart","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false}""",
        """{"model":"command","messages":[{"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image_url","image_url":{"url":"https://files.example.com/a.png"}}]}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","stop":["END"],"seed":3}""",
        """{"model":"anthropic/claude-sonnet-5-5","messages":[{"role":"user","content":"Summarize as JSON."}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"},"strict":true}},"temperature":0.3,"top_p":0.9}""",
    ];

    private static readonly string[] Tokens =
    [
        "\\ud800", "\\udfff", "\\ud83d\\ude00", "\\u0000", "\\u00e9", "\\", "\"", "{", "}", "[", "]", ",", ":", "null", "true", "false",
        "1e999", "-0", "0x1F", "NaN", "\"\"", "{}", "[]", "\"model\":\"x\"", "\"stream\":true", "\"prompt\":1", "\u00e9", "\U0001F600",
        new string('a', 3000), "\"metadata\":{\"k\":\"v\"}", "\"messages\":[]", "\"format\":\"json\"", "\t", "\r\n",
        "\"tools\":[]", "\"tool_calls\":[]", "\"role\":\"tool\"", "\"tool_call_id\":\"call_1\"", "\"type\":\"image_url\"", "\"arguments\":\"[\"",
    ];

    [OneTimeSetUp]
    public void VendorsAnswer()
    {
        foreach (var vendor in VendorCase.All)
        {
            var fake = Vendors[vendor.Vendor];
            fake.Given(Request.Create().UsingPost().WithBody(b => b != null && b.Contains("\"stream\":true")))
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(AsJsonOutput(vendor.ReadFixture(vendor.StreamFixture))));
            fake.Given(Request.Create().UsingPost().WithBody(b => b == null || !b.Contains("\"stream\":true")))
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(AsJsonOutput(vendor.ReadFixture(vendor.ResponseFixture))));
        }
    }

    // The fixtures' answer text made a JSON value ("[1,2]"), so that bodies asking for format json get what they asked for:
    // a 502 invalid_model_output would be the model's fault, not the gateway's.
    private static string AsJsonOutput(string fixture) => fixture
        .Replace("Customer requests invoice review and Q3 delivery confirmation.", "[1,2]", StringComparison.Ordinal)
        .Replace(" invoice review and Q3 delivery confirmation.", ",2]", StringComparison.Ordinal)
        .Replace("Customer requests", "[1", StringComparison.Ordinal)
        .Replace(" invoice review", ",2", StringComparison.Ordinal)
        .Replace(" and Q3 delivery confirmation.", "]", StringComparison.Ordinal);

    [Test]
    public async Task MutatedBodies_AreAnswered2xxOr4xxProblem_NeverAServerError()
    {
        var random = new Random(Seed);
        var cases = Enumerable.Range(0, Bodies).Select(i => random.Next(3) switch
        {
            0 => (Index: i, Endpoint: "/v1/ai/generate", Body: Mutate(random, Valid)),
            1 => (Index: i, Endpoint: "/v1/ai/summarize", Body: Mutate(random, Valid)),
            _ => (Index: i, Endpoint: "/v1/chat/completions", Body: Mutate(random, ChatValid)),
        }).ToList();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = deadline.Token }, async (item, cancel) =>
        {
            using var request = Gateway.Request(HttpMethod.Post, item.Endpoint, Gateway.ClientKeys["team-a"]);
            request.Content = new ByteArrayContent(item.Body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await Gateway.Client.SendAsync(request, cancel);
            var text = await response.Content.ReadAsStringAsync(cancel);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json";
            var ok = status is >= 200 and < 300
                || (status is >= 400 and < 500 && problem && JsonDocument.Parse(text).RootElement.GetProperty("code").GetString() is { Length: > 0 });
            if (!ok)
            {
                failures.Add($"#{item.Index} {item.Endpoint} {Convert.ToBase64String(item.Body)} → {status} {text}");
            }
        });

        TestContext.Out.WriteLine($"seed {Seed}: {Bodies} bodies in {clock.Elapsed.TotalSeconds:F1} s; statuses: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");
        Assert.That(failures, Is.Empty, string.Join(Environment.NewLine, failures.Take(5)));
        Assert.That(statuses.Keys, Has.Some.InRange(200, 299).And.Some.EqualTo(400), "the mutations reach both valid and invalid bodies");
        Assert.That(Gateway.Logs.Entries, Has.None.Contains("Unhandled error"));
    }

    private static byte[] Mutate(Random random, string[] valid)
    {
        var body = Encoding.UTF8.GetBytes(valid[random.Next(valid.Length)]).ToList();
        var mutations = 1 + random.Next(3);
        for (var m = 0; m < mutations && body.Count > 0; m++)
        {
            var at = random.Next(body.Count);
            switch (random.Next(7))
            {
                case 0: // one byte replaced by any byte, control and non-UTF-8 bytes included
                    body[at] = (byte)random.Next(256);
                    break;
                case 1: // a run removed
                    body.RemoveRange(at, Math.Min(body.Count - at, 1 + random.Next(12)));
                    break;
                case 2: // a run repeated
                    var length = Math.Min(body.Count - at, 1 + random.Next(24));
                    body.InsertRange(at, body.GetRange(at, length));
                    break;
                case 3: // a hostile token inserted
                    body.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)]));
                    break;
                case 4: // cut short
                    body.RemoveRange(at, body.Count - at);
                    break;
                case 5: // a string value's closing quote preceded by a lone surrogate escape
                    var quote = body.IndexOf((byte)'"', at);
                    if (quote > 0)
                    {
                        body.InsertRange(quote, Encoding.UTF8.GetBytes(random.Next(2) == 0 ? "\\ud800" : "\\udc00"));
                    }

                    break;
                default: // a value of another type
                    var colon = body.IndexOf((byte)':', at);
                    if (colon > 0)
                    {
                        body.InsertRange(colon + 1, Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)] + ","));
                    }

                    break;
            }
        }

        return [.. body];
    }
}
