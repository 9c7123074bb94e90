using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Orchestrator.Actors.Settings;

/// <summary>
/// Reads the default configuration and lays a user's file over it, as one HOCON document (later keys win,
/// objects merge). Two things Akka's HOCON parser does not do are done here, on the text, before it parses:
/// environment substitution (<c>${?NAME}</c>, <c>${NAME}</c>) and <c>orchestrator.default-models = off</c>, which drops
/// the shipped <c>models</c> entries so that only the user's own remain. Otherwise a user's <c>providers</c> and
/// <c>models</c> merge over the shipped ones by name, as HOCON merges objects: overriding one provider's key or adding
/// one model never means copying the others. The model catalogue (<c>catalogue.conf</c>, next to
/// the defaults) is laid over the defaults before the user's file, so a user's file may correct an entry. The merged
/// result holds only keys the defaults know (<see cref="KnownKeys"/>).
/// </summary>
public static partial class HoconLoader
{
    /// <summary>The key that drops the shipped models (<c>on</c> by default: they are served).</summary>
    public const string DefaultModelsKey = "default-models";

    /// <summary>The model catalogue's file name, in the same folder as the default configuration.</summary>
    public const string CatalogueFile = "catalogue.conf";

    public static Config Load(string defaultsText, string? userText = null, string userName = "user config", string? catalogueText = null)
    {
        var defaults = SubstituteEnvironment(defaultsText, "default config");
        var defaultConfig = Parse(defaults, "default config");
        var known = KnownKeys.FromDefaults(defaultConfig);
        if (catalogueText is not null)
        {
            Parse(catalogueText, CatalogueFile);   // its own syntax errors name it
            defaults = defaults + "\n" + catalogueText;
            defaultConfig = Parse(defaults, CatalogueFile);
            known.Check(defaultConfig, catalogueText, CatalogueFile);
        }
        if (userText is null) return defaultConfig;

        var user = SubstituteEnvironment(userText, userName);
        var userConfig = Parse(user, userName);
        // The file's own models come first in config order (patterns are tried in that order), the shipped ones after:
        // each of its keys is named once before the defaults, then given its value after them.
        var text = new StringBuilder();
        foreach (var id in UserModelIds(userConfig)) text.Append("orchestrator.models { ").Append(Quote(id)).Append(" {} }\n");
        text.Append(defaults).Append('\n');
        if (DropsDefaultModels(userConfig)) text.Append("orchestrator.models = null\n");
        var merged = Parse(text.Append(user).ToString(), userName);
        known.Check(merged, userText, userName);
        return merged;
    }

    /// <summary>The defaults file, the catalogue beside it when there is one, and the user's file over both.</summary>
    public static Config LoadFiles(string defaultsPath, string? userPath)
    {
        if (userPath is not null && !File.Exists(userPath))
            throw new InvalidConfigException("--config", $"file '{userPath}' does not exist");
        var cataloguePath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(defaultsPath))!, CatalogueFile);
        return Load(File.ReadAllText(defaultsPath), userPath is null ? null : File.ReadAllText(userPath), userPath ?? "user config",
            File.Exists(cataloguePath) ? File.ReadAllText(cataloguePath) : null);
    }

    private static IEnumerable<string> UserModelIds(Config config) =>
        OrchestratorValue(config, "models") is { } models && models.IsObject() ? models.GetObject().Items.Keys : [];

    /// <summary>Whether the user's file says <c>orchestrator.default-models = off</c> (HOCON's booleans: off, false, no).</summary>
    private static bool DropsDefaultModels(Config config) =>
        OrchestratorValue(config, DefaultModelsKey) is { } value && !value.IsObject() && !value.IsArray()
        && value.GetString()?.Trim().ToLowerInvariant() is "off" or "false" or "no";

    /// <summary><c>orchestrator.KEY</c> as the file itself sets it (before any merge), or null.</summary>
    private static HoconValue? OrchestratorValue(Config config, string key) =>
        config.Root.GetObject()?.Items.TryGetValue("orchestrator", out var root) == true && root is not null
        && root.GetObject()?.Items.TryGetValue(key, out var value) == true ? value : null;

    private static Config Parse(string text, string name)
    {
        RefuseForbiddenCharacters(text, name);
        try
        {
            return ConfigurationFactory.ParseString(text);
        }
        catch (Exception ex) when (ex is not InvalidConfigException)
        {
            throw new InvalidConfigException(name, "not valid HOCON: " + ex.Message.Split('\n')[0].Trim());
        }
    }

    /// <summary>
    /// HOCON: a substitution that names no config path is looked up in the environment. Only names that cannot
    /// be config paths (no dot) are taken from the environment here; quoted strings are left alone.
    /// </summary>
    internal static string SubstituteEnvironment(string text, string name)
    {
        var result = new StringBuilder(text.Length);
        var last = 0;
        foreach (Match match in EnvironmentReference().Matches(text))
        {
            if (InsideQuotes(text, match.Index)) continue;
            var variable = match.Groups["name"].Value;
            var optional = match.Groups["optional"].Success;
            var value = Environment.GetEnvironmentVariable(variable);
            if (value is null && !optional)
                throw new InvalidConfigException(name, $"environment variable {variable} is required by ${{{variable}}} but is not set");
            result.Append(text, last, match.Index - last);
            // Unset optional: HOCON says the key gets no value; null is how Akka's parser spells that.
            result.Append(value is null ? "null" : Quote(value));
            last = match.Index + match.Length;
        }
        return result.Append(text, last, text.Length - last).ToString();
    }

    /// <summary>
    /// Akka's HOCON parser never returns on some broken input (found by fuzzing the loader): a character HOCON
    /// forbids outside quoted strings (<c>^ ` ! @ * &amp;</c>) inside a list, and brackets left open at the end of the
    /// text. Both are refused here first, by line, so a typo stops start-up with a message instead of hanging it.
    /// </summary>
    private static void RefuseForbiddenCharacters(string text, string name)
    {
        var open = new Stack<(char Bracket, int Line)>();
        var line = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n') line++;
            else if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i + 1 < text.Length && text[i + 1] != '\n') i++;   // a comment, to the end of the line
            }
            else if (c == '"')
            {
                var triple = i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"';
                i += triple ? 3 : 1;
                for (; i < text.Length; i++)
                {
                    if (text[i] == '\n') line++;
                    if (triple ? text.AsSpan(i).StartsWith("\"\"\"") : text[i] == '"') break;
                    if (!triple && text[i] == '\\') i++;
                }
                if (triple) i += 2;
            }
            else if (c is '^' or '`' or '!' or '@' or '*' or '&')
            {
                throw new InvalidConfigException(name, $"not valid HOCON: '{c}' at line {line} is not allowed outside a quoted string");
            }
            else if (c is '[' or '{') open.Push((c, line));
            else if (c is ']' or '}')
            {
                var expected = c == ']' ? '[' : '{';
                if (open.Count == 0 || open.Peek().Bracket != expected)
                    throw new InvalidConfigException(name, $"not valid HOCON: '{c}' at line {line} closes nothing" + (open.Count > 0 ? $" (the '{open.Peek().Bracket}' of line {open.Peek().Line} is still open)" : ""));
                open.Pop();
            }
        }
        if (open.TryPeek(out var unclosed))
            throw new InvalidConfigException(name, $"not valid HOCON: the '{unclosed.Bracket}' of line {unclosed.Line} is never closed");
    }

    internal static string Quote(string value)
    {
        var quoted = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            if (c is '"' or '\\') quoted.Append('\\');
            quoted.Append(c);
        }
        return quoted.Append('"').ToString();
    }

    private static bool InsideQuotes(string text, int index)
    {
        var lineStart = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        var inside = false;
        for (var i = lineStart; i < index; i++)
        {
            if (text[i] == '\\' && inside) { i++; continue; }
            if (text[i] == '"') inside = !inside;
            if (!inside && text[i] == '#') return true;   // a comment: leave it be
            if (!inside && text[i] == '/' && i + 1 < index && text[i + 1] == '/') return true;
        }
        return inside;
    }

    [GeneratedRegex(@"\$\{(?<optional>\?)?(?<name>[A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex EnvironmentReference();
}
