using Gateway.Auth;

namespace Gateway.Tests.Auth;

public sealed class KeysCommandTests
{
    [Test]
    public void Run_NewKey_PrintsKeyOnceAndTheHashToConfigure()
    {
        var output = new StringWriter();
        var exit = KeysCommand.Run(["keys", "new", "--client", "team-a"], output, TextWriter.Null);

        Assert.That(exit, Is.Zero);
        var text = output.ToString();
        var key = text.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(ClientKeyHasher.KeyPrefix, StringComparison.Ordinal));
        Assert.That(key, Has.Length.GreaterThan(40));
        Assert.That(text, Does.Contain($"Gateway__Clients__team-a__KeySha256={ClientKeyHasher.HashHex(key)}"));
        Assert.That(text.Split(key).Length - 1, Is.EqualTo(1), "the key is printed once");
    }

    [Test]
    public void Run_TwoKeys_AreDifferent()
    {
        var first = new StringWriter();
        var second = new StringWriter();
        KeysCommand.Run(["keys", "new", "--client", "a"], first, TextWriter.Null);
        KeysCommand.Run(["keys", "new", "--client", "a"], second, TextWriter.Null);
        Assert.That(first.ToString(), Is.Not.EqualTo(second.ToString()));
    }

    [TestCase("keys")]
    [TestCase("keys new")]
    [TestCase("keys new --client")]
    [TestCase("keys new --client bad/id")]
    [TestCase("keys list --client a")]
    public void Run_BadArguments_PrintsUsageAndFails(string args)
    {
        var error = new StringWriter();
        Assert.That(KeysCommand.Run(args.Split(' '), TextWriter.Null, error), Is.EqualTo(2));
        Assert.That(error.ToString(), Does.StartWith("usage: keys new --client"));
    }

    [Test]
    public void HashHex_IsLowercaseSha256()
        => Assert.That(ClientKeyHasher.HashHex("abc"), Is.EqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}
