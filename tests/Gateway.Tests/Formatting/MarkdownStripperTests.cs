using System.Text;
using Gateway.Transforms.Formatting;

namespace Gateway.Tests.Formatting;

public sealed class MarkdownStripperTests
{
    [TestCase("# Title", "Title")]
    [TestCase("###### Deep", "Deep")]
    [TestCase("####### Seven", "####### Seven")]
    [TestCase("#hashtag", "#hashtag")]
    [TestCase("**bold** and *italic* and __strong__", "bold and italic and strong")]
    [TestCase("snake_case_name stays", "snake_case_name stays")]
    [TestCase("2 * 3 = 6", "2 * 3 = 6")]
    [TestCase("use `dotnet test` here", "use dotnet test here")]
    [TestCase("- one\n- two\n* three\n+ four", "one\ntwo\nthree\nfour")]
    [TestCase("> quoted\n> > nested", "quoted\nnested")]
    [TestCase("```csharp\nvar x = 1;\n```\nafter", "var x = 1;\nafter")]
    [TestCase("1. first\n2. second", "1. first\n2. second")]
    [TestCase("  - indented bullet", "  indented bullet")]
    [TestCase("-5 degrees", "-5 degrees")]
    [TestCase("a\n\nb", "a\n\nb")]
    [TestCase("[link](https://example.com)", "[link](https://example.com)")]
    [TestCase("", "")]
    [TestCase("#", "#")]
    [TestCase("trailing *", "trailing *")]
    [TestCase("end *em*", "end em")]
    public void Strip_RemovesMarkup(string markdown, string text) => Assert.That(MarkdownStripper.Strip(markdown), Is.EqualTo(text));

    [Test]
    public void Append_AnySplit_GivesTheSameTextAsWhole([Random(0, 1_000_000, 25)] int seed)
    {
        const string markdown = "# Summary\n\n**Invoice** review and *Q3* delivery `dates`.\n- confirm __times__\n> quoted snake_case 2 * 3\n```json\n{\"a\": 1}\n```\n## End";
        var random = new Random(seed);
        var stripper = new MarkdownStripper();
        var output = new StringBuilder();
        for (var i = 0; i < markdown.Length;)
        {
            var length = Math.Min(random.Next(1, 6), markdown.Length - i);
            stripper.Append(markdown.AsSpan(i, length), output);
            i += length;
        }

        stripper.Finish(output);
        Assert.That(output.ToString(), Is.EqualTo(MarkdownStripper.Strip(markdown)));
    }
}
