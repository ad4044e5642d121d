using Gateway.Transforms.Formatting;

namespace Gateway.Tests.Formatting;

public sealed class JsonOutputTests
{
    [TestCase("{\"a\": 1}", "{\"a\": 1}")]
    [TestCase("  [1, 2]  ", "[1, 2]")]
    [TestCase("```json\n{\"a\": 1}\n```", "{\"a\": 1}")]
    [TestCase("```\n\"text\"\n```", "\"text\"")]
    [TestCase("42", "42")]
    public void Normalize_Json_IsKept(string output, string json) => Assert.That(JsonOutput.Normalize(output), Is.EqualTo(json));

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("Sure! {\"a\": 1}")]
    [TestCase("{\"a\": 1} and more")]
    [TestCase("{\"a\": ")]
    [TestCase("```json\n{\"a\": 1}")]
    [TestCase("```json\n```")]
    public void Normalize_NotJson_IsNull(string output) => Assert.That(JsonOutput.Normalize(output), Is.Null);
}
