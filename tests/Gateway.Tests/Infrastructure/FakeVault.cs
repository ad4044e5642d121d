using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// HashiCorp Vault's HTTP API as documented (KV v1/v2 reads, token lookup-self and renew-self, AppRole and Kubernetes
/// logins, sealed and permission-denied errors), on WireMock, with the secret's state switchable as a scenario.
/// </summary>
public sealed class FakeVault : IDisposable
{
    public const string Scenario = "vault";
    public const string RootToken = "hvs.CAESIJtestroottoken0000000000000000";

    public WireMockServer Server { get; } = WireMockServer.Start();

    public string Address => Server.Url!;

    public FakeVault()
    {
        Server.Given(Request.Create().WithPath("/v1/auth/token/lookup-self").UsingGet().WithHeader("X-Vault-Token", RootToken))
            .AtPriority(10)
            .RespondWith(Json(200, $$"""
                {"request_id":"8b3c6f1a-0000-4000-8000-000000000001","lease_id":"","renewable":false,"lease_duration":0,
                 "data":{"accessor":"8609694a-cdbc-db9b-d345-e782dbb562ed","creation_time":1523979354,"creation_ttl":0,"display_name":"root",
                         "entity_id":"","expire_time":null,"explicit_max_ttl":0,"id":"{{RootToken}}","meta":null,"num_uses":0,"orphan":true,
                         "path":"auth/token/root","policies":["root"],"renewable":false,"ttl":0},
                 "wrap_info":null,"warnings":null,"auth":null}
                """));
        State("v1");
    }

    public static IResponseBuilder Json(int status, string body)
        => Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);

    public static string KvV2(string field, string value, int version) => new JsonObject
    {
        ["request_id"] = Guid.NewGuid().ToString(), ["lease_id"] = "", ["renewable"] = false, ["lease_duration"] = 0,
        ["data"] = new JsonObject
        {
            ["data"] = new JsonObject { [field] = value },
            ["metadata"] = new JsonObject
            {
                ["created_time"] = "2026-11-27T02:24:06.945319214Z", ["custom_metadata"] = null, ["deletion_time"] = "", ["destroyed"] = false, ["version"] = version,
            },
        },
        ["wrap_info"] = null, ["warnings"] = null, ["auth"] = null,
    }.ToJsonString();

    public static string KvV1(string field, string value) => new JsonObject
    {
        ["request_id"] = Guid.NewGuid().ToString(), ["lease_id"] = "", ["renewable"] = false, ["lease_duration"] = 2764800,
        ["data"] = new JsonObject { [field] = value }, ["wrap_info"] = null, ["warnings"] = null, ["auth"] = null,
    }.ToJsonString();

    public static string Login(string token, int leaseSeconds, bool renewable) => new JsonObject
    {
        ["request_id"] = Guid.NewGuid().ToString(), ["lease_id"] = "", ["renewable"] = false, ["lease_duration"] = 0, ["data"] = null,
        ["wrap_info"] = null, ["warnings"] = null,
        ["auth"] = new JsonObject
        {
            ["client_token"] = token, ["accessor"] = "0e9e354a-520f-df04-6867-ee81cae3d42d",
            ["policies"] = new JsonArray("default", "ai-gateway"), ["token_policies"] = new JsonArray("default", "ai-gateway"),
            ["metadata"] = new JsonObject { ["role_name"] = "gateway" }, ["lease_duration"] = leaseSeconds, ["renewable"] = renewable,
            ["entity_id"] = "c4b5f1b0-0000-4000-8000-000000000002", ["token_type"] = "service", ["orphan"] = true,
        },
    }.ToJsonString();

    public const string Sealed = """{"errors":["Vault is sealed"]}""";
    public const string PermissionDenied = """{"errors":["permission denied"]}""";

    /// <summary>The KV v2 secret <c>secret/ai/openai</c> answers <paramref name="value"/> (version) in scenario state <paramref name="state"/>, to the root token.</summary>
    public void SecretInState(string state, string value, int version, string path = "/v1/secret/data/ai/openai", string field = "api_key", string token = RootToken)
        => Server.Given(Request.Create().WithPath(path).UsingGet().WithHeader("X-Vault-Token", token))
            .InScenario(Scenario).WhenStateIs(state).WillSetStateTo(state)
            .RespondWith(Json(200, KvV2(field, value, version)));

    /// <summary>In scenario state <paramref name="state"/>, every read answers <paramref name="status"/> with <paramref name="body"/>.</summary>
    public void FailInState(string state, int status, string body, string path = "/v1/secret/data/ai/openai")
        => Server.Given(Request.Create().WithPath(path).UsingGet()).InScenario(Scenario).WhenStateIs(state).WillSetStateTo(state).RespondWith(Json(status, body));

    public void State(string state) => Server.SetScenarioState(Scenario, state);

    /// <summary>How many times a path was requested.</summary>
    public int Calls(string path) => Server.LogEntries.Count(e => e.RequestMessage!.Path == path);

    public void Dispose() => Server.Stop();
}
