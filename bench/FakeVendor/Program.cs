// A vendor stand-in for load runs: answers the OpenAI chat completion shapes at once, so the numbers measure the proxy.
// A request asking for a stream ("stream":true) gets the documented SSE chunks, each flushed as it is written; one that
// also carries "bench_slow":true gets a content chunk a second for SlowSeconds (150) between the first and the rest — a
// slow model answer, for the memory of many open streams.
var app = WebApplication.CreateSlimBuilder(args).Build();
var slowSeconds = app.Configuration.GetValue("SlowSeconds", 150);
var slowFlag = "\"bench_slow\":true"u8.ToArray();
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
    var slow = body.GetBuffer().AsSpan(0, (int)body.Length).IndexOf(slowFlag) >= 0;
    for (var i = 0; i < events.Length; i++)
    {
        await context.Response.Body.WriteAsync(events[i]);
        await context.Response.Body.FlushAsync();
        for (var second = 0; slow && i == 0 && second < slowSeconds; second++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), context.RequestAborted);
            await context.Response.Body.WriteAsync(events[1], context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }
});
app.Run();
