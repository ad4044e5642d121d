using System.Diagnostics;
using System.Globalization;
using Gateway.Limiting;
using StackExchange.Redis;

// What the shared limiter costs redis-server: callers of one client, each admitted and settling as the gateway does
// (the settlement goes out with the client's next decisions, after the shipped settle linger at most), through the
// gateway's own Redis store and script, at several concurrencies. redis-server's CPU (utime + stime from /proc) per
// request, and how many operations each script call carried: a client with more calls in flight shares each script
// call among more of them.
// Usage: LimiterReplay <host:port> <redis-server pid> <seconds per concurrency> <concurrencies, e.g. 1,8,64>
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: LimiterReplay <host:port> <redis-server pid> <seconds> <concurrencies>");
    return 2;
}

var (endpoint, pid, seconds) = (args[0], int.Parse(args[1], CultureInfo.InvariantCulture), double.Parse(args[2], CultureInfo.InvariantCulture));
var concurrencies = args[3].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
using var redis = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true"); // INFO commandstats
var server = redis.GetServer(redis.GetEndPoints().Single());
var store = new RedisLimiterStore(redis, "bench-replay", clock: null, settleLinger: new RateLimitingOptions().SettleLinger);
// The bench gateway's policy: limits that never refuse, a one-minute window.
var scopes = new[] { new LimitScope("client", new LimitPolicy("bench", 1_000_000_000, 1_000_000_000_000, TimeSpan.FromMinutes(1), false)) };

Console.WriteLine("| callers in flight | requests/s | redis-server CPU µs/request | operations per script call |");
Console.WriteLine("|---|---|---|---|");
foreach (var concurrency in concurrencies)
{
    var client = "replay-" + concurrency.ToString(CultureInfo.InvariantCulture) + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    await RunAsync(client, concurrency, Math.Min(0.5, seconds)); // warm-up: the script cached, the client's keys made
    var (ticks, calls) = (Ticks(), ScriptCalls());
    var watch = Stopwatch.StartNew();
    var requests = await RunAsync(client, concurrency, seconds);
    watch.Stop();
    await Task.Delay(50); // the last settlements out
    var (cpu, scriptCalls) = ((Ticks() - ticks) * 10_000.0, ScriptCalls() - calls);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {requests / watch.Elapsed.TotalSeconds:F0} | {cpu / requests:F1} | {2.0 * requests / Math.Max(scriptCalls, 1):F1} |"));
}

return 0;

async Task<long> RunAsync(string client, int callers, double duration)
{
    long requests = 0;
    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(duration));
    var workers = Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            var decision = await store.AcquireAsync(new AdmissionRequest(client, scopes, 1047, 10286, []), CancellationToken.None);
            // As the gateway settles: not waited for, the reply observed (a failure would end the run).
            _ = store.SettleAsync(decision.Lease!, 39, 9, CancellationToken.None).AsTask().ContinueWith(
                t => Console.Error.WriteLine("settle failed: " + t.Exception!.GetBaseException().Message), TaskContinuationOptions.OnlyOnFaulted);
            Interlocked.Increment(ref requests);
        }
    }));
    await Task.WhenAll(workers);
    return requests;
}

long Ticks()
{
    var stat = File.ReadAllText($"/proc/{pid}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
}

long ScriptCalls()
{
    var stats = server.Info("commandstats").SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
    long calls = 0;
    foreach (var command in new[] { "cmdstat_evalsha", "cmdstat_eval" })
    {
        if (stats.TryGetValue(command, out var value))
        {
            calls += long.Parse(value.Split(',')[0]["calls=".Length..], CultureInfo.InvariantCulture);
        }
    }

    return calls;
}
