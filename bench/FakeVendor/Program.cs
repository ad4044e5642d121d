// A vendor stand-in for load runs: answers the OpenAI chat completion shape at once, so the numbers measure the proxy.
var app = WebApplication.CreateSlimBuilder(args).Build();
var completion = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "chat-completion.json"));
app.MapPost("/v1/chat/completions", async context =>
{
    await context.Request.Body.CopyToAsync(Stream.Null);
    context.Response.ContentType = "application/json";
    await context.Response.Body.WriteAsync(completion);
});
app.Run();
