using Gateway.Hosting;
using Gateway.Secrets;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Secrets;

public sealed class SecretCacheTests
{
    private FakeTimeProvider _time = null!;
    private GatewaySettingsMonitor _settings = null!;
    private CountingSource _counting = null!;
    private SecretCache _cache = null!;
    private SecretRegistry _registry = null!;
    private string _directory = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _settings = TestSettings.Monitor(new() { ["Gateway:Secrets:MinRefreshInterval"] = "00:00:05" }, _time);
        _counting = new CountingSource();
        _registry = new SecretRegistry();
        _cache = new SecretCache([new EnvironmentSecretSource(), new FileSecretSource(), _counting], _settings, _time, NullLogger<SecretCache>.Instance, _registry);
        _directory = Directory.CreateTempSubdirectory("secrets-").FullName;
    }

    [TearDown]
    public void TearDown()
    {
        _settings.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static SecretReference Parse(string text)
    {
        Assert.That(SecretReference.TryParse(text, out var reference, out var error), Is.True, error);
        return reference!;
    }

    [Test]
    public async Task File_RotatedValue_IsServedAfterTheNextRefresh()
    {
        var path = Path.Combine(_directory, "key");
        await File.WriteAllTextAsync(path, "v1-key-value\n");
        var reference = Parse("file:" + path);

        Assert.That((await _cache.GetAsync(reference, default)).Value, Is.EqualTo("v1-key-value"), "trailing newline trimmed");
        await File.WriteAllTextAsync(path, "v2-key-value");
        Assert.That((await _cache.GetAsync(reference, default)).Value, Is.EqualTo("v1-key-value"), "served from the cache until a refresh");
        Assert.That(await _cache.RefreshAsync(reference, default), Is.True);
        Assert.That((await _cache.GetAsync(reference, default)).Value, Is.EqualTo("v2-key-value"));
        Assert.That(_registry.Redact("old v1-key-value new v2-key-value"), Is.EqualTo("old [redacted] new [redacted]"), "both are redacted from logs");
    }

    [Test]
    public async Task File_RemovedDuringRotation_KeepsLastGoodValue_AndReportsIt()
    {
        var path = Path.Combine(_directory, "key");
        await File.WriteAllTextAsync(path, "v1");
        var reference = Parse("file:" + path);
        await _cache.GetAsync(reference, default);

        File.Delete(path);
        Assert.That(await _cache.RefreshAsync(reference, default), Is.False);
        Assert.That((await _cache.GetAsync(reference, default)).Value, Is.EqualTo("v1"));
        var status = _cache.Status([reference]).Single();
        Assert.That(status.Resolved, Is.True);
        Assert.That(status.Error, Does.Contain("cannot be read").And.Not.Contain("v1"));
    }

    [Test]
    public async Task File_MissingOrEmpty_ExplainsWithoutValue()
    {
        var missing = await _cache.GetAsync(Parse("file:" + Path.Combine(_directory, "absent")), default);
        Assert.That(missing.Value, Is.Null);
        Assert.That(missing.Error, Does.StartWith("file ").And.Contain("absent").And.Contain("cannot be read"));

        var path = Path.Combine(_directory, "empty");
        await File.WriteAllTextAsync(path, "  \n");
        Assert.That((await _cache.GetAsync(Parse("file:" + path), default)).Error, Is.EqualTo($"file {path} is empty"));
    }

    [Test]
    public async Task Environment_SetAndUnset()
    {
        var name = "GWTEST_SECRET_" + Guid.NewGuid().ToString("N");
        var reference = Parse("env:" + name);
        Assert.That((await _cache.GetAsync(reference, default)).Error, Is.EqualTo($"environment variable {name} is not set"));

        Environment.SetEnvironmentVariable(name, " sk-value ");
        try
        {
            Assert.That((await _cache.GetAsync(reference, default)).Value, Is.EqualTo("sk-value"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Test]
    public async Task ConcurrentRefreshes_ShareOneRead()
    {
        var reference = Parse("vault:secret/ai#key");
        _counting.Gate = new TaskCompletionSource();
        var refreshes = Enumerable.Range(0, 50).Select(_ => _cache.RefreshAsync(reference, default)).ToList();
        _counting.Gate.SetResult();
        await Task.WhenAll(refreshes);
        Assert.That(_counting.Reads, Is.EqualTo(1));
    }

    [Test]
    public async Task RefreshIfStale_ReadsAgainAtMostOncePerMinInterval()
    {
        var reference = Parse("vault:secret/ai#key");
        _counting.Value = "old";
        await _cache.GetAsync(reference, default);
        Assert.That(_counting.Reads, Is.EqualTo(1));

        Assert.That(await _cache.RefreshIfStaleAsync(reference, "old", default), Is.False, "unchanged");
        Assert.That(await _cache.RefreshIfStaleAsync(reference, "old", default), Is.False);
        Assert.That(_counting.Reads, Is.EqualTo(2), "the second 401 within 5 s does not read again");

        _counting.Value = "new";
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(await _cache.RefreshIfStaleAsync(reference, "old", default), Is.True);
        Assert.That(await _cache.RefreshIfStaleAsync(reference, "old", default), Is.True, "already rotated: no read needed");
        Assert.That(_counting.Reads, Is.EqualTo(3));
    }

    [Test]
    public async Task RefreshIfStale_ARefusalWhileAnotherIsStartingTheRead_SeesTheNewValue()
    {
        // The race seen once in CI (VaultRotationTests.FiftyConcurrent401s_CauseOneVaultRead(True): one of 50 calls got
        // 502): a refusal that came after another had stamped its forced read but before that read was registered found
        // no read under way and a read "just made", skipped it, and answered "unchanged". The reference here pauses the
        // first refusal exactly there (its third hash: entries, in-flight lookup, in-flight registration).
        var reference = new PausingReference("vault:secret/ai#key");
        var source = new PausingSource { Value = "old" };
        var cache = new SecretCache([source], _settings, _time, NullLogger<SecretCache>.Instance);
        await cache.GetAsync(reference, default);
        source.Value = "new";
        reference.PauseAtHash(3);

        var first = Task.Run(() => cache.RefreshIfStaleAsync(reference, "old", default));
        Assert.That(reference.Paused.Wait(TimeSpan.FromSeconds(10)), Is.True, "the first refusal reached the registration of its read");
        var second = Task.Run(() => cache.RefreshIfStaleAsync(reference, "old", default));
        // Before the fix the second answered at once (false); it may only answer from the first one's read.
        await Task.WhenAny(second, Task.Delay(TimeSpan.FromMilliseconds(300)));
        reference.Resume.Set();

        Assert.That(await first, Is.True);
        Assert.That(await second, Is.True, "the second refusal sees the rotated value");
        Assert.That(source.Reads, Is.EqualTo(2), "the first read, and one re-read for both refusals");
    }

    [TestCase("env:OPENAI_API_KEY", true)]
    [TestCase("file:/run/secrets/openai", true)]
    [TestCase("vault:secret/ai/openai#api_key", true)]
    [TestCase("vault:secret#api_key", false)]
    [TestCase("vault:secret/ai/openai", false)]
    [TestCase("vault:secret/ai/openai#", false)]
    [TestCase("sk-live-abc", false)]
    [TestCase("env:", false)]
    [TestCase(":x", false)]
    [TestCase("aws:openai", false)]
    public void TryParse_Shapes(string text, bool valid)
        => Assert.That(SecretReference.TryParse(text, out _, out _), Is.EqualTo(valid));

    [Test]
    public void TryParse_Vault_SplitsMountPathAndField()
    {
        var reference = (VaultSecretReference)Parse("vault:kv/teams/ai/openai#api_key");
        Assert.That((reference.Mount, reference.Path, reference.Field), Is.EqualTo(("kv", "teams/ai/openai", "api_key")));
    }

    [Test]
    public void TryParse_Error_DoesNotEchoTheValue()
    {
        SecretReference.TryParse("sk-live-abc123", out _, out var error);
        Assert.That(error, Does.Not.Contain("sk-live-abc123"));
    }

    private sealed record PausingReference(string Text) : SecretReference(Text)
    {
        private int _hashes;
        private int _pauseAt = -1;

        public ManualResetEventSlim Paused { get; } = new();

        public ManualResetEventSlim Resume { get; } = new();

        public void PauseAtHash(int call)
        {
            _hashes = 0;
            _pauseAt = call;
        }

        public bool Equals(PausingReference? other) => ReferenceEquals(this, other);

        public override int GetHashCode()
        {
            if (Interlocked.Increment(ref _hashes) == _pauseAt)
            {
                Paused.Set();
                Resume.Wait(TimeSpan.FromSeconds(10));
            }

            return StringComparer.Ordinal.GetHashCode(Text);
        }
    }

    private sealed class PausingSource : ISecretSource
    {
        private int _reads;

        public int Reads => _reads;

        public string Value { get; set; } = "value";

        public bool Handles(SecretReference reference) => reference is PausingReference;

        public Task<SecretFetch> FetchAsync(SecretReference reference, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            return Task.FromResult(new SecretFetch(Value, "1"));
        }
    }

    private sealed class CountingSource : ISecretSource
    {
        private int _reads;

        public int Reads => _reads;

        public string Value { get; set; } = "value";

        public TaskCompletionSource? Gate { get; set; }

        public bool Handles(SecretReference reference) => reference is VaultSecretReference;

        public async Task<SecretFetch> FetchAsync(SecretReference reference, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            if (Gate is not null)
            {
                await Gate.Task;
            }

            return new SecretFetch(Value, "1");
        }
    }
}
