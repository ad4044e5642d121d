using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

// The baseline: YARP with the same route shape and nothing else, so the gateway's overhead is the difference.
var builder = WebApplication.CreateBuilder(args);
var vendor = builder.Configuration["Vendor"] ?? "http://127.0.0.1:5301/";
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "openai", ClusterId = "openai", Match = new RouteMatch { Path = "/api/ai/openai/{**path}" } }
        .WithTransformPathRouteValues("/{**path}")],
    [new ClusterConfig { ClusterId = "openai", Destinations = new Dictionary<string, DestinationConfig> { ["primary"] = new() { Address = vendor } } }]);
var app = builder.Build();
app.MapReverseProxy();
app.Run();
