using Gateway.Limiting;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Limiting;

/// <summary>What every limiter store must do; the Redis and the in-process store each run this whole class on a fake clock.</summary>
public abstract class LimiterStoreContract
{
    protected static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    protected FakeTimeProvider Time { get; private set; } = null!;

    protected ILimiterStore Store { get; private set; } = null!;

    protected abstract ILimiterStore CreateStore(FakeTimeProvider time);

    [SetUp]
    public void CreateStore()
    {
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        Store = CreateStore(Time);
    }

    private static string NewClient() => "client-" + Guid.NewGuid().ToString("N")[..8];

    private static AdmissionRequest Requests(string client, int limit, long tokens = 0, long cost = 0, long? budget = null)
        => new(client, [new LimitScope("client", new LimitPolicy("p", limit, null, Window, true))], tokens, cost,
            budget is { } cap ? [new BudgetScope(BudgetScope.ClientKey, cap)] : []);

    private static AdmissionRequest Tokens(string client, long limit, long tokens)
        => new(client, [new LimitScope("client", new LimitPolicy("t", null, limit, Window, true))], tokens, 0, []);

    [Test]
    public async Task Requests_AdmitsExactlyTheLimit_ThenRefusesWithRetryAfter()
    {
        var client = NewClient();
        var admitted = 0;
        for (var i = 0; i < 15; i++)
        {
            if ((await Store.AcquireAsync(Requests(client, 10), default)).Admitted)
            {
                admitted++;
            }

            Time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.That(admitted, Is.EqualTo(10));
        var refused = await Store.AcquireAsync(Requests(client, 10), default);
        Assert.That(refused.Reason, Is.EqualTo(LimitReason.Requests));
        Assert.That(refused.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(60 - 15)), "when the oldest request leaves the window");
        Time.Advance(refused.RetryAfter);
        Assert.That((await Store.AcquireAsync(Requests(client, 10), default)).Admitted, Is.True);
    }

    [Test]
    public async Task Requests_QuotaReportsWhatIsLeft()
    {
        var client = NewClient();
        var first = await Store.AcquireAsync(Requests(client, 5), default);
        var second = await Store.AcquireAsync(Requests(client, 5), default);
        Assert.That(first.Quotas.Single().RequestsLeft, Is.EqualTo(4));
        Assert.That(second.Quotas.Single().RequestsLeft, Is.EqualTo(3));
        Assert.That(second.Quotas.Single().Reset, Is.EqualTo(Window));
    }

    [Test]
    public async Task Requests_BurstsAcrossTheWindowBoundary_NeverExceedTheLimitInAnyWindow([Values(1, 2, 3)] int seed)
    {
        const int limit = 20;
        var client = NewClient();
        var random = new Random(seed);
        var start = Time.GetUtcNow();
        var admittedAt = new List<DateTimeOffset>();
        // Bursts at the end of each window and the start of the next, with quiet stretches between.
        foreach (var burstStart in new[] { 50, 58, 60, 61, 110, 119, 120, 121, 179, 181 })
        {
            Time.SetUtcNow(start + TimeSpan.FromSeconds(burstStart));
            for (var i = 0; i < 15; i++)
            {
                if ((await Store.AcquireAsync(Requests(client, limit), default)).Admitted)
                {
                    admittedAt.Add(Time.GetUtcNow());
                }

                Time.Advance(TimeSpan.FromMilliseconds(random.Next(1, 40)));
            }
        }

        foreach (var end in admittedAt)
        {
            var inWindow = admittedAt.Count(t => t > end - Window && t <= end);
            Assert.That(inWindow, Is.LessThanOrEqualTo(limit), $"window ending {end:O}");
        }

        Assert.That(admittedAt, Has.Count.GreaterThanOrEqualTo(3 * limit), "the limit is used, not just enforced");
    }

    [Test]
    public async Task Tokens_ReservationSettledToActualUsage_FreesTheDifference()
    {
        var client = NewClient();
        var lease = (await Store.AcquireAsync(Tokens(client, 1000, 800), default)).Lease!;
        Assert.That((await Store.AcquireAsync(Tokens(client, 1000, 300), default)).Reason, Is.EqualTo(LimitReason.Tokens));

        await Store.SettleAsync(lease, 150, 0, default);

        var next = await Store.AcquireAsync(Tokens(client, 1000, 300), default);
        Assert.That(next.Admitted, Is.True);
        Assert.That(next.Quotas.Single().TokensLeft, Is.EqualTo(1000 - 150 - 300));
    }

    [Test]
    public async Task Tokens_AfterTheWindow_CountersReturnToZero()
    {
        var client = NewClient();
        for (var i = 0; i < 5; i++)
        {
            var lease = (await Store.AcquireAsync(Tokens(client, 10_000, 500), default)).Lease!;
            await Store.SettleAsync(lease, 120 + i, 0, default);
        }

        Time.Advance(Window);
        var fresh = await Store.AcquireAsync(Tokens(client, 10_000, 1), default);
        Assert.That(fresh.Quotas.Single().TokensLeft, Is.EqualTo(10_000 - 1), "nothing leaks past the window");
    }

    [Test]
    public async Task Tokens_SettleAfterTheWindow_DoesNotDrift()
    {
        var client = NewClient();
        var lease = (await Store.AcquireAsync(Tokens(client, 1000, 400), default)).Lease!;
        Time.Advance(Window + TimeSpan.FromSeconds(1));
        await Store.SettleAsync(lease, 900, 0, default);
        var fresh = await Store.AcquireAsync(Tokens(client, 1000, 100), default);
        Assert.That(fresh.Quotas.Single().TokensLeft, Is.EqualTo(900));
    }

    [Test]
    public async Task Tokens_MoreThanTheLimit_NeverFit()
    {
        var refused = await Store.AcquireAsync(Tokens(NewClient(), 1000, 1001), default);
        Assert.That(refused.Reason, Is.EqualTo(LimitReason.Tokens));
        Assert.That(refused.RetryAfter, Is.EqualTo(TimeSpan.MaxValue));
    }

    [Test]
    public async Task Tokens_RetryAfter_IsWhenEnoughTokensLeave()
    {
        var client = NewClient();
        await Store.AcquireAsync(Tokens(client, 1000, 400), default);
        Time.Advance(TimeSpan.FromSeconds(10));
        await Store.AcquireAsync(Tokens(client, 1000, 400), default);
        Time.Advance(TimeSpan.FromSeconds(10));
        var refused = await Store.AcquireAsync(Tokens(client, 1000, 500), default);
        Assert.That(refused.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(40)), "the first 400 leave 60 s after they came");
    }

    [Test]
    public async Task Scopes_AreAllOrNothing()
    {
        var client = NewClient();
        var wide = new LimitScope("client", new LimitPolicy("wide", 100, null, Window, true));
        var narrow = new LimitScope("user:u1", new LimitPolicy("narrow", 1, null, Window, true));
        Assert.That((await Store.AcquireAsync(new AdmissionRequest(client, [wide, narrow], 0, 0, []), default)).Admitted, Is.True);
        var refused = await Store.AcquireAsync(new AdmissionRequest(client, [wide, narrow], 0, 0, []), default);
        Assert.That(refused.Scope, Is.EqualTo(narrow));

        var onlyWide = await Store.AcquireAsync(new AdmissionRequest(client, [wide], 0, 0, []), default);
        Assert.That(onlyWide.Quotas.Single().RequestsLeft, Is.EqualTo(100 - 2), "the refused request was not counted in the wide scope");
    }

    [Test]
    public async Task Concurrent_DecisionsSettlementsAndReleases_LeaveExactCounters([Values(1, 2, 3)] int seed)
    {
        // 400 callers at once on one client (on Redis, many decided in one script call), then settlements and releases of
        // the admitted interleaved with 100 more callers.
        var client = NewClient();
        var policy = new LimitPolicy("both", 300, 1_000_000, Window, true);
        AdmissionRequest Request() => new(client, [new LimitScope("client", policy)], 1000, 0, []);
        var first = await Task.WhenAll(Enumerable.Range(0, 400).Select(_ => Task.Run(async () =>
        {
            var request = Request();
            return (Request: request, Decision: await Store.AcquireAsync(request, default));
        })));
        Assert.That(first.Count(d => d.Decision.Admitted), Is.EqualTo(300), "exactly the request limit, at once");

        var random = new Random(seed);
        var admitted = first.Where(d => d.Decision.Admitted).Select((d, i) => (d.Request, d.Decision.Lease!, Used: i % 10 == 0 ? -1 : random.Next(0, 2000))).ToList();
        var ends = admitted.Select(a => Task.Run(async () =>
        {
            if (a.Used < 0)
            {
                await Store.ReleaseAsync(a.Request, default);
            }
            else
            {
                await Store.SettleAsync(a.Item2, a.Used, 0, default);
            }
        }));
        var more = Enumerable.Range(0, 100).Select(_ => Task.Run(async () => (await Store.AcquireAsync(Request(), default)).Admitted)).ToList();
        await Task.WhenAll(ends);
        var late = (await Task.WhenAll(more)).Count(a => a);
        Assert.That(late, Is.LessThanOrEqualTo(30), "only places freed by releases were given again");

        // Asked with a higher request limit, so it is admitted whatever is left: what the counters hold.
        var probe = await Store.AcquireAsync(new AdmissionRequest(client, [new LimitScope("client", policy with { Requests = 10_000 })], 0, 0, []), default);
        var quota = probe.Quotas.Single();
        Assert.That(quota.RequestsLeft, Is.EqualTo(10_000 - (270 + late) - 1), "released reservations count nothing");
        Assert.That(quota.TokensLeft, Is.EqualTo(1_000_000 - admitted.Where(a => a.Used >= 0).Sum(a => (long)a.Used) - 1000L * late),
            "every settlement replaced its reservation");

        Time.Advance(Window);
        var fresh = await Store.AcquireAsync(new AdmissionRequest(client, [new LimitScope("client", policy)], 5, 0, []), default);
        Assert.That(fresh.Quotas.Single().TokensLeft, Is.EqualTo(1_000_000 - 5), "settled reservations leave the window with their corrections");
    }

    [Test]
    public async Task Budget_ConcurrentRequests_CannotOvershoot()
    {
        var client = NewClient();
        const long cap = 1_000_000; // 1 USD
        const long cost = 30_000;   // 0.03 USD each: at most 33 fit
        var decisions = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ =>
            Task.Run(async () => await Store.AcquireAsync(Requests(client, 10_000, cost: cost, budget: cap), default))));

        Assert.That(decisions.Count(d => d.Admitted), Is.EqualTo(33));
        Assert.That(decisions.Where(d => !d.Admitted).Select(d => d.Reason), Has.All.EqualTo(LimitReason.Budget));
    }

    [Test]
    public async Task Budget_SettledBelowTheEstimate_FreesBudget_AndRenewsNextDay()
    {
        var client = NewClient();
        var lease = (await Store.AcquireAsync(Requests(client, 100, cost: 900_000, budget: 1_000_000), default)).Lease!;
        Assert.That((await Store.AcquireAsync(Requests(client, 100, cost: 200_000, budget: 1_000_000), default)).Reason, Is.EqualTo(LimitReason.Budget));

        await Store.SettleAsync(lease, 0, 100_000, default);
        Assert.That((await Store.AcquireAsync(Requests(client, 100, cost: 200_000, budget: 1_000_000), default)).Admitted, Is.True);

        var refused = await Store.AcquireAsync(Requests(client, 100, cost: 800_000, budget: 1_000_000), default);
        Assert.That(refused.RetryAfter, Is.EqualTo(TimeSpan.FromHours(12)), "until 00:00 UTC");
        Time.Advance(TimeSpan.FromHours(12));
        Assert.That((await Store.AcquireAsync(Requests(client, 100, cost: 800_000, budget: 1_000_000), default)).Admitted, Is.True);
    }
}

[TestFixture]
public sealed class LocalLimiterStoreTests : LimiterStoreContract
{
    protected override ILimiterStore CreateStore(FakeTimeProvider time) => new LocalLimiterStore(time);

    [Test]
    public async Task Reservation_WhoseScopeWasSweptAndMadeAgain_EndsWithoutTouchingTheNewScope([Values] bool released)
    {
        // A reservation still open when its window passed; every 1024th decision of a client sweeps away the scopes that
        // hold nothing, and the next request of that user makes the scope again, its log starting over.
        var user = new LimitScope("user:u1", new LimitPolicy("u", 10, 1_000_000, Window, true));
        var other = new LimitScope("client", new LimitPolicy("c", 100_000, null, Window, true));
        var old = new AdmissionRequest("swept", [user], 500, 0, []);
        var lease = (await Store.AcquireAsync(old, default)).Lease!;
        Time.Advance(Window + TimeSpan.FromSeconds(1));
        for (var i = 0; i < 1100; i++)
        {
            Assert.That((await Store.AcquireAsync(new AdmissionRequest("swept", [other], 0, 0, []), default)).Admitted, Is.True);
        }

        Assert.That((await Store.AcquireAsync(new AdmissionRequest("swept", [user], 700, 0, []), default)).Admitted, Is.True);
        await (released ? Store.ReleaseAsync(old, default) : Store.SettleAsync(lease, 0, 0, default));

        var probe = (await Store.AcquireAsync(new AdmissionRequest("swept", [user], 0, 0, []), default)).Quotas.Single();
        Assert.That((probe.RequestsLeft, probe.TokensLeft), Is.EqualTo((10L - 1 - 1, 1_000_000L - 700)),
            "only the new request counts, with its own reservation");
    }
}

[TestFixture]
public sealed class RedisLimiterStoreTests : LimiterStoreContract
{
    private RedisServer _redis = null!;
    private StackExchange.Redis.ConnectionMultiplexer _connection = null!;

    [OneTimeSetUp]
    public void StartRedis()
    {
        _redis = RedisServer.Start();
        _connection = _redis.Connect();
    }

    [OneTimeTearDown]
    public void StopRedis()
    {
        _connection.Dispose();
        _redis.Dispose();
    }

    protected override ILimiterStore CreateStore(FakeTimeProvider time) => new RedisLimiterStore(_connection, "gwtest", time);

    [Test]
    public async Task Keys_ShareOneHashTag_AndAllHaveATtl()
    {
        var scopes = new[]
        {
            new LimitScope("client", new LimitPolicy("a", 10, 1000, Window, true)),
            new LimitScope("model:gpt-6-luna", new LimitPolicy("b", 10, null, Window, true)),
            new LimitScope("user:u-1", new LimitPolicy("c", 10, null, Window, true)),
        };
        var lease = (await Store.AcquireAsync(new AdmissionRequest("tagged", scopes, 10, 5, [new BudgetScope(BudgetScope.ClientKey, 1_000_000)]), default)).Lease!;
        Assert.That((await Store.AcquireAsync(new AdmissionRequest("tagged", scopes, 10, 5, [new BudgetScope(BudgetScope.ClientKey, 1_000_000)]), default)).Admitted, Is.True);
        await Store.SettleAsync(lease, 7, 4, default);

        var server = _connection.GetServer(_connection.GetEndPoints().Single());
        var keys = server.Keys(pattern: "{gwtest:tagged}*").ToList();
        Assert.That(keys, Has.Count.EqualTo(3 * 3 + 1 + 1), "a log, totals and corrections per scope, the budget, the reservation registry");
        Assert.That(keys.Select(k => _connection.HashSlot(k)).Distinct().Count(), Is.EqualTo(1), "one cluster slot");
        foreach (var key in keys)
        {
            Assert.That(await _connection.GetDatabase().KeyTimeToLiveAsync(key), Is.Not.Null, key.ToString());
        }
    }

    [Test]
    public async Task ConcurrentDecisions_GoOutTogether_InFewerScriptCalls_AndStayExact()
    {
        var server = _connection.GetServer(_connection.GetEndPoints().Single());
        var scope = new LimitScope("client", new LimitPolicy("p", 100, null, Window, true));
        var before = ScriptCalls(server);
        var decisions = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ =>
            Task.Run(async () => await Store.AcquireAsync(new AdmissionRequest("batched", [scope], 0, 0, []), default))));
        var calls = ScriptCalls(server) - before;

        TestContext.Out.WriteLine($"500 decisions in {calls} script calls");
        Assert.That(calls, Is.LessThan(500), "decisions waiting behind a call went out together");
        Assert.That(decisions.Count(d => d.Admitted), Is.EqualTo(100));
        Assert.That(decisions.Where(d => d.Admitted).Select(d => d.Quotas.Single().RequestsLeft), Is.EquivalentTo(Enumerable.Range(0, 100).Select(i => (long?)i)),
            "each admission saw every one decided before it, in order");
        Assert.That(decisions.Where(d => !d.Admitted).Select(d => d.Reason), Has.All.EqualTo(LimitReason.Requests));
    }

    [Test]
    public async Task OperationsOfDifferentScopesAndBudgets_GoOutTogether_AndEachCountsWhereItBelongs()
    {
        // One client's requests name different lists of scopes and budgets (its own; with a model; with one of three end
        // users; with a budget), some as the same array, some as equal arrays of their own; all at once, so most go out
        // in shared script calls. Then a third are settled to other usage and a sixth released, also all at once.
        var server = _connection.GetServer(_connection.GetEndPoints().Single());
        var client = new LimitScope("client", new LimitPolicy("c", 100_000, 100_000_000, Window, true));
        var model = new LimitScope("model:m", new LimitPolicy("m", 100_000, 100_000_000, Window, true));
        LimitScope User(int n) => new("user:u" + n, new LimitPolicy("u", 100_000, 100_000_000, Window, true));
        BudgetScope[] Budget() => [new BudgetScope(BudgetScope.ClientKey, 1_000_000_000)];
        LimitScope[] shared = [client];
        var requests = Enumerable.Range(0, 240).Select(i => (i % 4) switch
        {
            0 => new AdmissionRequest("sets", shared, 10 + i, 0, []),
            1 => new AdmissionRequest("sets", [client, model], 10 + i, 0, []),
            2 => new AdmissionRequest("sets", [client, User(i % 3)], 10 + i, 0, []),
            _ => new AdmissionRequest("sets", [client], 10 + i, 100 + i, Budget()),
        }).ToList();
        var before = ScriptCalls(server);
        var decisions = await Task.WhenAll(requests.Select(r => Task.Run(async () => await Store.AcquireAsync(r, default))));
        Assert.That(decisions.All(d => d.Admitted), Is.True);
        Assert.That(ScriptCalls(server) - before, Is.LessThan(requests.Count / 2), "operations of different lists went out together");

        var used = requests.Select((r, i) => i % 6 == 5 ? -1L : i % 3 == 0 ? (r.Tokens / 2) : r.Tokens).ToList();
        await Task.WhenAll(requests.Select((r, i) => Task.Run(async () =>
        {
            if (used[i] < 0)
            {
                await Store.ReleaseAsync(r, default);
            }
            else if (i % 3 == 0)
            {
                await Store.SettleAsync(decisions[i].Lease!, used[i], r.CostMicros / 2, default);
            }
        })));

        // What each scope and the budget hold now, asked with no tokens and no cost.
        long Count(Func<AdmissionRequest, bool> has) => requests.Where((r, i) => has(r) && used[i] >= 0).Count();
        long Tokens(Func<AdmissionRequest, bool> has) => requests.Select((r, i) => has(r) && used[i] >= 0 ? used[i] : 0).Sum();
        bool Has(AdmissionRequest r, string key) => r.Scopes.Any(s => s.Key == key);
        var probe = await Store.AcquireAsync(new AdmissionRequest("sets", [client, model, User(0), User(1), User(2)], 0, 0, Budget()), default);
        foreach (var (quota, key) in probe.Quotas.Zip(new[] { "client", "model:m", "user:u0", "user:u1", "user:u2" }))
        {
            Assert.That((quota.RequestsLeft, quota.TokensLeft), Is.EqualTo((100_000 - Count(r => Has(r, key)) - 1, 100_000_000 - Tokens(r => Has(r, key)))), key);
        }

        var spent = requests.Select((r, i) => used[i] < 0 ? 0 : i % 3 == 0 ? r.CostMicros / 2 : r.CostMicros).Sum();
        var cap = 1_000_000_000 - spent;
        Assert.That((await Store.AcquireAsync(new AdmissionRequest("sets", [client], 0, cap + 1, Budget()), default)).Reason, Is.EqualTo(LimitReason.Budget),
            "the budget holds what the settled and unreleased requests cost");
        Assert.That((await Store.AcquireAsync(new AdmissionRequest("sets", [client], 0, cap, Budget()), default)).Admitted, Is.True);
    }

    [Test]
    public async Task Settlement_GoesOutWithTheNextDecision_OrWhenTheLingerHasPassed()
    {
        var server = _connection.GetServer(_connection.GetEndPoints().Single());
        var timers = new FakeTimeProvider();
        var store = new RedisLimiterStore(_connection, "gwlinger", Time, settleLinger: TimeSpan.FromMilliseconds(5), timers: timers);
        var scope = new LimitScope("client", new LimitPolicy("t", null, 1000, Window, true));
        var lease = (await store.AcquireAsync(new AdmissionRequest("linger", [scope], 800, 0, []), default)).Lease!;

        var before = ScriptCalls(server);
        var settled = store.SettleAsync(lease, 100, 0, default).AsTask();
        var next = await store.AcquireAsync(new AdmissionRequest("linger", [scope], 300, 0, []), default);
        await settled;
        Assert.That(ScriptCalls(server) - before, Is.EqualTo(1), "the settlement and the decision after it went out in one call");
        Assert.That(next.Admitted, Is.True, "settled first (100 + 300 fit; 800 + 300 would not)");
        Assert.That(next.Quotas.Single().TokensLeft, Is.EqualTo(1000 - 100 - 300));

        var alone = store.SettleAsync(next.Lease!, 50, 0, default).AsTask();
        timers.Advance(TimeSpan.FromMilliseconds(5));
        await alone.WaitAsync(TimeSpan.FromSeconds(10));
        var after = await store.AcquireAsync(new AdmissionRequest("linger", [scope], 0, 0, []), default);
        Assert.That(after.Quotas.Single().TokensLeft, Is.EqualTo(1000 - 100 - 50), "with no decision to ride on, it went out after the linger");
    }

    [Test]
    public async Task Log_HoldsOneEntryPerScriptCall_NotPerRequest()
    {
        var server = _connection.GetServer(_connection.GetEndPoints().Single());
        var scope = new LimitScope("client", new LimitPolicy("p", 1000, 10_000_000, Window, true));
        var before = ScriptCalls(server);
        var decisions = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ =>
            Task.Run(async () => await Store.AcquireAsync(new AdmissionRequest("aggregated", [scope], 100, 0, []), default))));
        var calls = ScriptCalls(server) - before;

        var database = _connection.GetDatabase();
        var entries = await database.SortedSetLengthAsync(RedisLimiterState.Log("gwtest", "aggregated"));
        TestContext.Out.WriteLine($"500 admissions in {calls} script calls, {entries} log entries");
        Assert.That(decisions.Count(d => d.Admitted), Is.EqualTo(500));
        Assert.That(entries, Is.LessThanOrEqualTo(calls).And.LessThan(500), "one entry per call that admitted, not one per request");
        Assert.That(await RedisLimiterState.CountedAsync(database, "gwtest", "aggregated"), Is.EqualTo((500L, 50_000L)));

        // Half released, half settled: the counts follow, and once the window has moved on nothing is left.
        await Task.WhenAll(decisions.Select((d, i) => i % 2 == 0 ? Store.ReleaseAsync(d.Lease!.Request, default).AsTask() : Store.SettleAsync(d.Lease!, 30, 0, default).AsTask()));
        Assert.That(await RedisLimiterState.CountedAsync(database, "gwtest", "aggregated"), Is.EqualTo((250L, 250L * 30)));
        Time.Advance(Window);
        var fresh = await Store.AcquireAsync(new AdmissionRequest("aggregated", [scope], 7, 0, []), default);
        Assert.That(fresh.Quotas.Single().RequestsLeft, Is.EqualTo(1000 - 1));
        Assert.That(await RedisLimiterState.CountedAsync(database, "gwtest", "aggregated"), Is.EqualTo((1L, 7L)));
        Assert.That(await database.SortedSetLengthAsync(RedisLimiterState.Log("gwtest", "aggregated")), Is.EqualTo(1));
    }

    [Test]
    public async Task ScopeKeys_ExpireTogether_WhicheverOfThemAWriteTouches()
    {
        // A settlement written long after the admission touches only the corrections; were the log and totals to keep
        // their older TTL, they would expire first and leave corrections to be subtracted from a total that is gone.
        var scope = new LimitScope("client", new LimitPolicy("t", null, 10_000, Window, true));
        var lease = (await Store.AcquireAsync(new AdmissionRequest("ttl", [scope], 1000, 0, []), default)).Lease!;
        var database = _connection.GetDatabase();
        StackExchange.Redis.RedisKey[] keys = [RedisLimiterState.Log("gwtest", "ttl"), RedisLimiterState.Key("gwtest", "ttl", "client:totals")];
        foreach (var key in keys)
        {
            await database.KeyExpireAsync(key, TimeSpan.FromSeconds(5)); // as if admitted long ago
        }

        await Store.SettleAsync(lease, 400, 0, default);
        foreach (var key in keys.Append(RedisLimiterState.Key("gwtest", "ttl", "client:corrections")))
        {
            Assert.That(await database.KeyTimeToLiveAsync(key), Is.GreaterThan(Window), key.ToString());
        }

        Assert.That(await RedisLimiterState.CountedAsync(database, "gwtest", "ttl"), Is.EqualTo((1L, 400L)));
    }

    private static long ScriptCalls(StackExchange.Redis.IServer server)
    {
        var line = server.Execute("INFO", "commandstats").ToString()!.Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split("calls=")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Test]
    public async Task ScriptCacheFlushed_AsAfterARestart_ScriptIsSentAgain()
    {
        var server = _connection.GetServer(_connection.GetEndPoints().Single());
        await server.ScriptFlushAsync();
        Assert.That((await Store.AcquireAsync(new AdmissionRequest("flushed", [new LimitScope("client", new LimitPolicy("p", 5, null, Window, true))], 0, 0, []), default)).Admitted, Is.True);
    }
}
