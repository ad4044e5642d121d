using Gateway.Hosting;
using Gateway.Secrets;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Secrets;

public sealed class SecretStoreTests
{
    private FakeTimeProvider _time = null!;
    private GatewaySettingsMonitor _settings = null!;
    private SecretStore _store = null!;
    private string _directory = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _settings = TestSettings.Monitor(new() { ["Gateway:Secrets:FileRefreshInterval"] = "00:00:30" }, _time);
        _store = new SecretStore(_settings, _time);
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
    public async Task File_RotatedValue_IsReadAfterTheRefreshInterval()
    {
        var path = Path.Combine(_directory, "key");
        await File.WriteAllTextAsync(path, "v1\n");
        var reference = Parse("file:" + path);

        Assert.That((await _store.GetAsync(reference, default)).Value, Is.EqualTo("v1"), "trailing newline trimmed");
        await File.WriteAllTextAsync(path, "v2");
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.That((await _store.GetAsync(reference, default)).Value, Is.EqualTo("v1"), "cached within the interval");
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That((await _store.GetAsync(reference, default)).Value, Is.EqualTo("v2"), "re-read after the interval");
    }

    [Test]
    public async Task File_RemovedDuringRotation_KeepsLastGoodValue()
    {
        var path = Path.Combine(_directory, "key");
        await File.WriteAllTextAsync(path, "v1");
        var reference = Parse("file:" + path);
        await _store.GetAsync(reference, default);

        File.Delete(path);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.That((await _store.GetAsync(reference, default)).Value, Is.EqualTo("v1"));
    }

    [Test]
    public async Task File_Missing_ExplainsWithoutValue()
    {
        var result = await _store.GetAsync(Parse("file:" + Path.Combine(_directory, "absent")), default);
        Assert.That(result.Value, Is.Null);
        Assert.That(result.Error, Does.StartWith("file ").And.Contain("absent").And.Contain("cannot be read"));
    }

    [Test]
    public async Task File_Empty_IsMissing()
    {
        var path = Path.Combine(_directory, "empty");
        await File.WriteAllTextAsync(path, "  \n");
        var result = await _store.GetAsync(Parse("file:" + path), default);
        Assert.That(result.Error, Is.EqualTo($"file {path} is empty"));
    }

    [Test]
    public async Task Environment_SetAndUnset()
    {
        var name = "GWTEST_SECRET_" + Guid.NewGuid().ToString("N");
        var reference = Parse("env:" + name);
        Assert.That((await _store.GetAsync(reference, default)).Error, Is.EqualTo($"environment variable {name} is not set"));

        Environment.SetEnvironmentVariable(name, " sk-value ");
        try
        {
            Assert.That((await _store.GetAsync(reference, default)).Value, Is.EqualTo("sk-value"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [TestCase("env:OPENAI_API_KEY", true)]
    [TestCase("file:/run/secrets/openai", true)]
    [TestCase("sk-live-abc", false)]
    [TestCase("env:", false)]
    [TestCase(":x", false)]
    [TestCase("aws:openai", false)]
    public void TryParse_Shapes(string text, bool valid)
        => Assert.That(SecretReference.TryParse(text, out _, out _), Is.EqualTo(valid));

    [Test]
    public void TryParse_Error_DoesNotEchoTheValue()
    {
        SecretReference.TryParse("sk-live-abc123", out _, out var error);
        Assert.That(error, Does.Not.Contain("sk-live-abc123"));
    }
}
