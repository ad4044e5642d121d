using Gateway.Transforms.Passthrough;
using Gateway.Transforms.Vendors.OpenAi;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tests.Passthrough;

public sealed class PassthroughRouteTests
{
    private static RouteConfig Route(string path, Dictionary<string, string>? metadata = null, IReadOnlyList<IReadOnlyDictionary<string, string>>? transforms = null)
        => new() { RouteId = "openai", ClusterId = "openai", Match = new RouteMatch { Path = path }, Metadata = metadata, Transforms = transforms };

    [Test]
    public void For_CatchAllRoute_HasItsLiteralPrefix_AndTheVendorDefaults()
    {
        var route = PassthroughRoute.For(Route("/api/ai/openai/{**path}"), CallerHeaderPolicy.Default)!;

        Assert.That((route.Prefix, route.PrefixSegments), Is.EqualTo(("/api/ai/openai", 3)));
        Assert.That(route.RulesFor(new OpenAiVendor().Passthrough).Select(r => r.ToString()), Does.Contain("POST /v1/chat/completions").And.Contain("GET /v1/models/**"));
        Assert.That(route.PathBelow(new Microsoft.AspNetCore.Http.PathString("/api/ai/openai/v1/models")), Is.EqualTo("/v1/models"));
        Assert.That(route.PathBelow(new Microsoft.AspNetCore.Http.PathString("/api/ai/openai")), Is.EqualTo("/"));
    }

    [Test]
    public void For_TaskRoute_IsNull()
        => Assert.That(PassthroughRoute.For(Route("/v1/ai/generate", new() { ["Task"] = "generate" }), CallerHeaderPolicy.Default), Is.Null);

    [Test]
    public void For_Metadata_ReplacesOrExtendsTheDefaults()
    {
        var only = PassthroughRoute.For(Route("/x/{**p}", new() { ["PassthroughAllow"] = "POST /v1/chat/completions" }), CallerHeaderPolicy.Default)!;
        var more = PassthroughRoute.For(Route("/x/{**p}", new() { ["PassthroughAllow"] = "defaults, GET /v1/files/**" }), CallerHeaderPolicy.Default)!;
        var vendor = new OpenAiVendor().Passthrough;

        Assert.That(only.RulesFor(vendor).Select(r => r.ToString()), Is.EqualTo(new[] { "POST /v1/chat/completions" }));
        Assert.That(more.RulesFor(vendor).Count(), Is.EqualTo(vendor.DefaultRules.Count + 1));
        Assert.That(more.RulesFor(vendor).Any(r => r.Covers("GET", "/v1/files/file-1/content")), Is.True);
        Assert.That(more.RulesFor(vendor).Any(r => r.Covers("GET", "/v1/filesystem")), Is.False, "a prefix ends at a segment boundary");
    }

    [Test]
    public void Validate_ListsEveryFault_NamingTheRouteAndTheFix()
    {
        var errors = PassthroughRoute.Validate(Route(
            "/api/{vendor}/x",
            new() { ["PassthroughAllow"] = "TRACE /v1, GET v1/models, POST /v1/*/x", ["PassthroughHeaders"] = "x-api-key, OpenAI-Project, x-ok, bad header" },
            [new Dictionary<string, string> { ["PathPattern"] = "/{**path}" }]), CallerHeaderPolicy.Default);

        Assert.That(errors, Has.Count.EqualTo(9), string.Join(Environment.NewLine, errors));
        Assert.Multiple(() =>
        {
            Assert.That(errors, Has.Some.Contains("Route 'openai' Match.Path '/api/{vendor}/x' is not a passthrough path").And.Some.Contains("{**path}"));
            Assert.That(errors, Has.Some.Contains("PathPattern transform"));
            Assert.That(errors, Has.Some.Contains("'TRACE /v1' names method TRACE"));
            Assert.That(errors, Has.Some.Contains("'GET v1/models' is not a rule"));
            Assert.That(errors, Has.Some.Contains("'POST /v1/*/x' has a path that is not plain"));
            Assert.That(errors, Has.Some.Contains("PassthroughAllow allows nothing"));
            Assert.That(errors, Has.Some.Contains("'x-api-key' carries a credential"));
            Assert.That(errors, Has.Some.Contains("'OpenAI-Project' chooses what the gateway's key bills"));
            Assert.That(errors, Has.Some.Contains("'bad header' is not a header name"));
        });
    }

    [Test]
    public void HeadersFor_CommonVendorAndRouteHeaders_NothingElse()
    {
        var route = PassthroughRoute.For(Route("/x/{**p}", new() { ["PassthroughHeaders"] = "x-trace-tenant, x-feature-*" }), CallerHeaderPolicy.Default)!;
        var allow = route.HeadersFor(new OpenAiVendor().Passthrough);

        Assert.Multiple(() =>
        {
            foreach (var name in new[] { "Accept", "content-type", "Content-Length", "OpenAI-Beta", "x-stainless-os", "x-trace-tenant", "x-feature-flags" })
            {
                Assert.That(allow.Allows(name), Is.True, name);
            }

            foreach (var name in new[] { "Authorization", "Cookie", "OpenAI-Organization", "OpenAI-Project", "x-gateway-user", "baggage", "User-Agent", "Accept-Encoding", "X-Forwarded-For" })
            {
                Assert.That(allow.Allows(name), Is.False, name);
            }
        });
    }
}
