namespace Orchestrator.Actors.Settings;

/// <summary>
/// Where each key of a HOCON text is set: full key path (as <see cref="Render"/> writes it) -> 1-based line of its
/// first setting. Akka's parser keeps no positions, so this reads the text once more, best effort: it follows
/// braces, brackets, dotted keys, quoted keys, strings and comments, and skips what it does not understand
/// (includes, concatenations). A key it cannot place simply has no line.
/// </summary>
internal static class HoconKeyLines
{
    /// <summary>A key path as messages print it: <c>orchestrator.models."gpt-4.1".routes[0].provider</c>.</summary>
    public static string Render(IEnumerable<string> segments)
    {
        var text = new System.Text.StringBuilder();
        foreach (var segment in segments)
        {
            if (segment.StartsWith('[')) { text.Append(segment); continue; }
            if (text.Length > 0) text.Append('.');
            text.Append(segment.AsSpan().IndexOfAny(".*/ ") >= 0 ? $"\"{segment}\"" : segment);
        }
        return text.ToString();
    }

    public static IReadOnlyDictionary<string, int> Find(string text)
    {
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        new Scanner(text, lines).Run();
        return lines;
    }

    private sealed class Scanner(string text, Dictionary<string, int> lines)
    {
        private sealed class Frame(List<string> path, bool isArray)
        {
            public List<string> Path { get; } = path;
            public bool IsArray { get; } = isArray;
            public int Index { get; set; }
        }

        private readonly Stack<Frame> _frames = new();
        private int _pos;

        public void Run()
        {
            _frames.Push(new Frame([], isArray: false));
            while (SkipSpaceAndComments(newlines: true))
            {
                var c = text[_pos];
                if (c == ',') { _pos++; continue; }
                if (c is '}' or ']')
                {
                    _pos++;
                    if (_frames.Count > 1) _frames.Pop();
                    continue;
                }
                var top = _frames.Peek();
                if (top.IsArray) ArrayElement(top);
                else if (c == '{') { _pos++; _frames.Push(new Frame(top.Path, isArray: false)); }   // root braces
                else Field(top);
            }
        }

        private void ArrayElement(Frame array)
        {
            var element = new List<string>(array.Path) { $"[{array.Index++}]" };
            var c = text[_pos];
            if (c == '{') { _pos++; _frames.Push(new Frame(element, isArray: false)); }
            else if (c == '[') { _pos++; _frames.Push(new Frame(element, isArray: true)); }
            else SkipValue();
        }

        private void Field(Frame obj)
        {
            var start = _pos;
            var segments = ReadKey();
            if (segments.Count == 0)
            {
                SkipValue();   // something this reader does not know; on to the next line or field
                if (_pos == start) _pos++;
                return;
            }
            if (segments is ["include"] && _pos < text.Length && text[_pos] is ' ' or '\t')
            {
                SkipValue();
                return;
            }
            var path = new List<string>(obj.Path);
            foreach (var segment in segments)
            {
                path.Add(segment);
                lines.TryAdd(Render(path), LineAt(start));
            }
            SkipSpaceAndComments(newlines: true);
            if (_pos >= text.Length) return;
            if (text[_pos] == '+' && _pos + 1 < text.Length && text[_pos + 1] == '=') _pos += 2;
            else if (text[_pos] is '=' or ':') _pos++;
            SkipSpaceAndComments(newlines: false);
            if (_pos >= text.Length) return;
            if (text[_pos] == '{') { _pos++; _frames.Push(new Frame(path, isArray: false)); }
            else if (text[_pos] == '[') { _pos++; _frames.Push(new Frame(path, isArray: true)); }
            else SkipValue();
        }

        /// <summary>Dotted segments, each unquoted or quoted; stops before the separator.</summary>
        private List<string> ReadKey()
        {
            var segments = new List<string>();
            while (_pos < text.Length)
            {
                if (text[_pos] == '"')
                {
                    var end = StringEnd(_pos);
                    segments.Add(text[(_pos + 1)..Math.Max(_pos + 1, end - 1)].Replace("\\\"", "\"").Replace("\\\\", "\\"));
                    _pos = end;
                }
                else
                {
                    var begin = _pos;
                    while (_pos < text.Length && !EndsUnquotedKey(_pos)) _pos++;
                    if (_pos == begin) break;
                    segments.Add(text[begin.._pos].TrimEnd());
                }
                while (_pos < text.Length && text[_pos] is ' ' or '\t') _pos++;
                if (_pos < text.Length && text[_pos] == '.') _pos++;
                else break;
            }
            return segments;
        }

        private bool EndsUnquotedKey(int i) =>
            text[i] is '.' or '=' or ':' or '{' or '}' or '[' or ']' or ',' or '"' or '#' or '\n' or '\r' or ' ' or '\t'
            || (text[i] == '+' && i + 1 < text.Length && text[i + 1] == '=')
            || (text[i] == '/' && i + 1 < text.Length && text[i + 1] == '/');

        /// <summary>A simple value: up to the end of the line, a comma, or a closing brace or bracket (left for the caller).</summary>
        private void SkipValue()
        {
            while (_pos < text.Length)
            {
                var c = text[_pos];
                if (c is '\n' or ',' or '}' or ']' or '#') return;
                if (c == '/' && _pos + 1 < text.Length && text[_pos + 1] == '/') return;
                if (c == '"') { _pos = StringEnd(_pos); continue; }
                if (c == '$' && _pos + 1 < text.Length && text[_pos + 1] == '{')
                {
                    var close = text.IndexOf('}', _pos);
                    _pos = close < 0 ? text.Length : close + 1;
                    continue;
                }
                _pos++;
            }
        }

        /// <summary>The index just past the string that opens at <paramref name="i"/> ("..." or """...""").</summary>
        private int StringEnd(int i)
        {
            if (string.CompareOrdinal(text, i, "\"\"\"", 0, 3) == 0)
            {
                var close = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                return close < 0 ? text.Length : close + 3;
            }
            for (var j = i + 1; j < text.Length; j++)
            {
                if (text[j] == '\\') { j++; continue; }
                if (text[j] == '"') return j + 1;
                if (text[j] == '\n') return j;
            }
            return text.Length;
        }

        /// <summary>Moves past blanks and comments; false at the end of the text.</summary>
        private bool SkipSpaceAndComments(bool newlines)
        {
            while (_pos < text.Length)
            {
                var c = text[_pos];
                if (c is ' ' or '\t' or '\r' || (newlines && c == '\n') || c == '\uFEFF') { _pos++; continue; }
                if (c == '#' || (c == '/' && _pos + 1 < text.Length && text[_pos + 1] == '/'))
                {
                    var end = text.IndexOf('\n', _pos);
                    _pos = end < 0 ? text.Length : end;
                    continue;
                }
                return true;
            }
            return false;
        }

        private int _lineIndex, _line = 1;

        /// <summary>Keys come in text order, so the count of newlines carries on from the last key.</summary>
        private int LineAt(int index)
        {
            for (; _lineIndex < index; _lineIndex++) if (text[_lineIndex] == '\n') _line++;
            return _line;
        }
    }
}
