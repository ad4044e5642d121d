// A vendor stand-in for load runs: answers the OpenAI chat completion shapes at once, so the numbers measure the proxy.
// A request asking for a stream ("stream":true) gets the documented SSE chunks, each flushed as it is written.
var app = WebApplication.CreateSlimBuilder(args).Build();
var completion = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "chat-completion.json"));
var events = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "chat-completion-stream.sse"))
    .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
    .Select(e => System.Text.Encoding.UTF8.GetBytes(e.Trim('\n') + "\n\n"))
    .ToArray();
var streamFlag = "\"stream\":true"u8.ToArray();
app.MapPost("/v1/chat/completions", async context =>
{
    var body = new MemoryStream();
    await context.Request.Body.CopyToAsync(body);
    if (body.GetBuffer().AsSpan(0, (int)body.Length).IndexOf(streamFlag) < 0)
    {
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(completion);
        return;
    }

    context.Response.ContentType = "text/event-stream";
    foreach (var e in events)
    {
        await context.Response.Body.WriteAsync(e);
        await context.Response.Body.FlushAsync();
    }
});
app.Run();
