using System.Text;

namespace Gateway.Transforms.Formatting;

/// <summary>
/// Removes Markdown markup from text that may arrive in pieces (an SSE stream): headings, block quotes, bullets,
/// code fences, inline code, bold and italic markers. It decides character by character, holding back only the few
/// characters it cannot decide yet, so the output is the same however the input is split.
/// Links (<c>[text](url)</c>) and tables are left as written.
/// </summary>
public sealed class MarkdownStripper
{
    private const int MaxHeadingLevel = 6;
    private readonly StringBuilder _lineStart = new();
    private bool _atLineStart = true;
    private bool _skippingFenceLine;
    private int _heldStars;
    private int _heldUnderscores;
    private char _previous = '\n';

    /// <summary>Strips a whole text at once.</summary>
    public static string Strip(string markdown)
    {
        var stripper = new MarkdownStripper();
        var output = new StringBuilder(markdown.Length);
        stripper.Append(markdown, output);
        stripper.Finish(output);
        return output.ToString();
    }

    /// <summary>Feeds the next piece; writes what can be decided to <paramref name="output"/>.</summary>
    public void Append(ReadOnlySpan<char> text, StringBuilder output)
    {
        foreach (var c in text)
        {
            Process(c, output);
        }
    }

    /// <summary>Writes what is still held back; call once at the end.</summary>
    public void Finish(StringBuilder output)
    {
        if (_lineStart.Length > 0)
        {
            var pending = _lineStart.ToString();
            _lineStart.Clear();
            _atLineStart = false;
            foreach (var c in pending)
            {
                Inline(c, output);
            }
        }

        FlushHeld(next: '\n', output);
    }

    private void Process(char c, StringBuilder output)
    {
        if (_skippingFenceLine)
        {
            if (c == '\n')
            {
                _skippingFenceLine = false;
                _atLineStart = true;
            }

            return;
        }

        if (!_atLineStart)
        {
            Inline(c, output);
            return;
        }

        _lineStart.Append(c);
        switch (Classify())
        {
            case LineStart.Undecided:
                return;
            case LineStart.Indent:
                FlushHeld(c, output);
                Emit(output, c);
                _lineStart.Clear();
                return;
            case LineStart.DropAndStayAtLineStart:
                _lineStart.Clear();
                return;
            case LineStart.Drop:
                _lineStart.Clear();
                _atLineStart = false;
                return;
            case LineStart.Fence:
                _lineStart.Clear();
                _skippingFenceLine = true;
                return;
            default:
                var pending = _lineStart.ToString();
                _lineStart.Clear();
                _atLineStart = false;
                foreach (var p in pending)
                {
                    Inline(p, output);
                }

                return;
        }
    }

    private LineStart Classify()
    {
        var length = _lineStart.Length;
        var last = _lineStart[length - 1];
        if (length == 1 && last is ' ' or '\t')
        {
            return LineStart.Indent;
        }

        if (AllAre('#', length - 1) && length - 1 <= MaxHeadingLevel && length > 1 && last == ' ')
        {
            return LineStart.Drop;
        }

        if (AllAre('#', length) && length <= MaxHeadingLevel)
        {
            return LineStart.Undecided;
        }

        if (AllAre('`', length))
        {
            return length == 3 ? LineStart.Fence : LineStart.Undecided;
        }

        if (length == 1 && last is '-' or '*' or '+' or '>')
        {
            return LineStart.Undecided;
        }

        if (length == 2 && last == ' ')
        {
            return _lineStart[0] switch
            {
                '>' => LineStart.DropAndStayAtLineStart,
                '-' or '*' or '+' => LineStart.Drop,
                _ => LineStart.Text,
            };
        }

        return LineStart.Text;
    }

    private bool AllAre(char marker, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (_lineStart[i] != marker)
            {
                return false;
            }
        }

        return count > 0;
    }

    private void Inline(char c, StringBuilder output)
    {
        switch (c)
        {
            case '*':
                FlushUnderscores(output);
                _heldStars++;
                return;
            case '_':
                FlushStars(c, output);
                _heldUnderscores++;
                return;
            case '`':
                FlushHeld(c, output);
                return;
        }

        FlushHeld(c, output);
        Emit(output, c);
        if (c == '\n')
        {
            _atLineStart = true;
        }
    }

    private void FlushHeld(char next, StringBuilder output)
    {
        FlushStars(next, output);
        FlushUnderscores(output);
    }

    // Stars are emphasis unless they stand alone between spaces ("2 * 3").
    private void FlushStars(char next, StringBuilder output)
    {
        if (_heldStars == 0)
        {
            return;
        }

        if (char.IsWhiteSpace(_previous) && char.IsWhiteSpace(next))
        {
            output.Append('*', _heldStars);
            _previous = '*';
        }

        _heldStars = 0;
    }

    // "__bold__" is markup; a single underscore is part of a word (snake_case).
    private void FlushUnderscores(StringBuilder output)
    {
        if (_heldUnderscores == 1)
        {
            Emit(output, '_');
        }

        _heldUnderscores = 0;
    }

    private void Emit(StringBuilder output, char c)
    {
        output.Append(c);
        _previous = c;
    }

    private enum LineStart
    {
        Undecided,
        Indent,
        Drop,
        DropAndStayAtLineStart,
        Fence,
        Text,
    }
}
