using System.Collections.Immutable;
using System.Globalization;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Orchestrator.Actors.Settings;

/// <summary>
/// One object of the configuration, read by key, with an optional fallback object (a provider's block falls
/// back to <c>provider-defaults</c>). Every failure names the full key. Walks Akka's HOCON objects directly:
/// keys such as <c>"gpt-4.1"</c> hold dots, which path lookups would split.
/// </summary>
internal sealed class ConfigNode
{
    private readonly HoconObject _object;
    private readonly ConfigNode? _fallback;

    private ConfigNode(string path, HoconObject obj, ConfigNode? fallback)
    {
        Path = path;
        _object = obj;
        _fallback = fallback;
    }

    public string Path { get; }

    public static ConfigNode Root(Config config) =>
        new("", config.Root.GetObject() ?? throw new InvalidConfigException("(root)", "the configuration is empty"), null);

    public ConfigNode WithFallback(ConfigNode fallback) => new(Path, _object, fallback);

    public IEnumerable<string> Keys => _object.Items.Keys;

    public string KeyPath(string key) => Path.Length == 0 ? key : $"{Path}.{(key.AsSpan().IndexOfAny(".*/ ") >= 0 ? $"\"{key}\"" : key)}";

    private HoconValue? Find(string key)
    {
        if (_object.Items.TryGetValue(key, out var value) && !IsNull(value)) return value;
        return _fallback?.Find(key);
    }

    private static bool IsNull(HoconValue value) =>
        value.Values.Count == 0 || (value.IsString() && value.GetString() is null);

    private HoconValue Required(string key) =>
        Find(key) ?? throw new InvalidConfigException(KeyPath(key), "is missing");

    public bool Has(string key) => Find(key) is not null;

    public ConfigNode Child(string key)
    {
        var value = Required(key);
        var obj = value.IsObject() ? value.GetObject() : null;
        var fallback = _fallback is not null && _fallback.Has(key) && _fallback.Find(key)!.IsObject() ? _fallback.Child(key) : null;
        return new ConfigNode(KeyPath(key), obj ?? throw new InvalidConfigException(KeyPath(key), "must be an object { ... }"), fallback);
    }

    public ImmutableArray<ConfigNode> ObjectList(string key)
    {
        var items = List(key, "must be a list [ ... ]");
        var nodes = ImmutableArray.CreateBuilder<ConfigNode>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var obj = items[i].IsObject() ? items[i].GetObject() : null;
            nodes.Add(new ConfigNode($"{KeyPath(key)}[{i}]", obj ?? throw new InvalidConfigException($"{KeyPath(key)}[{i}]", "must be an object { ... }"), null));
        }
        return nodes.MoveToImmutable();
    }

    /// <summary>Akka's parser reports an empty <c>[]</c> as no array at all, so the list is read, not tested for.</summary>
    private IList<HoconValue> List(string key, string problem)
    {
        var value = Required(key);
        try
        {
            return value.GetArray();
        }
        catch (Exception)
        {
            throw new InvalidConfigException(KeyPath(key), problem);
        }
    }

    public string String(string key) => OptionalString(key) ?? throw new InvalidConfigException(KeyPath(key), "is missing");

    public string? OptionalString(string key)
    {
        var value = Find(key);
        if (value is null) return null;
        if (!value.IsString()) throw new InvalidConfigException(KeyPath(key), "must be a string");
        return value.GetString();
    }

    public ImmutableArray<string> StringList(string key)
    {
        return [.. List(key, "must be a list of strings").Select(v => v.GetString() ?? throw new InvalidConfigException(KeyPath(key), "must be a list of strings"))];
    }

    public TimeSpan Duration(string key, bool allowZero = false)
    {
        var raw = String(key);
        TimeSpan span;
        try
        {
            span = Required(key).GetTimeSpan();
        }
        catch (Exception)
        {
            throw new InvalidConfigException(KeyPath(key), $"'{raw}' is not a duration (e.g. 500ms, 30s, 5m, 1h)");
        }
        if (span < TimeSpan.Zero || (!allowZero && span == TimeSpan.Zero))
            throw new InvalidConfigException(KeyPath(key), $"'{raw}' must be {(allowZero ? "zero or more" : "more than zero")}");
        return span;
    }

    public long Long(string key, long min, long max = long.MaxValue)
    {
        var raw = String(key);
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
            throw new InvalidConfigException(KeyPath(key), $"'{raw}' is not a whole number");
        if (number < min || number > max)
            throw new InvalidConfigException(KeyPath(key), $"{number} is out of range ({min}..{(max == long.MaxValue ? "" : max)})");
        return number;
    }

    public int Int(string key, int min, int max = int.MaxValue) => (int)Long(key, min, max);

    public decimal Decimal(string key, decimal min)
    {
        var raw = String(key);
        if (!decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            throw new InvalidConfigException(KeyPath(key), $"'{raw}' is not a number");
        if (number < min) throw new InvalidConfigException(KeyPath(key), $"{raw} must not be less than {min}");
        return number;
    }

    /// <summary>HOCON booleans: on/off, true/false, yes/no.</summary>
    public bool Bool(string key)
    {
        var raw = String(key);
        return raw.ToLowerInvariant() switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            _ => throw new InvalidConfigException(KeyPath(key), $"'{raw}' is not on/off"),
        };
    }

    /// <summary>A duration where <c>off</c> (or 0) means the feature is disabled: returns null.</summary>
    public TimeSpan? OptionalDuration(string key)
    {
        var raw = String(key);
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase)) return null;
        var span = Duration(key, allowZero: true);
        return span == TimeSpan.Zero ? null : span;
    }
}
