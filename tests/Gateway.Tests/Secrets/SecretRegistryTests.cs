using Gateway.Secrets;

namespace Gateway.Tests.Secrets;

public sealed class SecretRegistryTests
{
    [TestCase("Authorization: Bearer sk-live-9f8e7d6c5b4a", "Authorization: [redacted]")]
    [TestCase("x-api-key=sk-ant-api03-abcdef123456", "x-api-key=[redacted]")]
    [TestCase("X-Vault-Token: hvs.CAESIJ2x", "X-Vault-Token: [redacted]")]
    [TestCase("api-key: 0123456789abcdef", "api-key: [redacted]")]
    [TestCase("Proxy-Authorization: Basic dGVhbTpzZWNyZXQ=", "Proxy-Authorization: [redacted]")]
    public void Redact_CredentialHeaderValues_AreMasked(string text, string expected)
        => Assert.That(new SecretRegistry().Redact(text), Is.EqualTo(expected));

    [TestCase("Present a gateway client key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.")]
    [TestCase("Set x-api-key: [redacted] again")]
    [TestCase("Authorization: Bearer {token}")]
    public void Redact_PlaceholdersInHelpText_AreLeftAlone(string text)
    {
        var registry = new SecretRegistry();
        Assert.That(registry.Leaks(text), Is.False);
        Assert.That(registry.Redact(text), Is.EqualTo(text));
    }

    [Test]
    public void Redact_ResolvedSecretValues_AreMaskedAnywhere()
    {
        var registry = new SecretRegistry();
        registry.Add("sk-proj-resolved-value-123");
        Assert.That(registry.Redact("the key sk-proj-resolved-value-123 was refused"), Is.EqualTo("the key [redacted] was refused"));
    }
}
