using Akka.Configuration.Hocon;

namespace Orchestrator.Actors.Settings;

/// <summary>What may stand at a key of the configuration: the known keys of <see cref="KnownKeys"/>.</summary>
internal abstract record KeyShape
{
    /// <summary>A value; what it holds is the binder's business.</summary>
    public sealed record Leaf : KeyShape
    {
        public static readonly Leaf Instance = new();
    }

    /// <summary>An object with a fixed set of keys, in the order the defaults list them.</summary>
    public sealed record Section(OrderedDictionary<string, KeyShape> Keys) : KeyShape
    {
        public static Section Of(HoconObject obj)
        {
            var keys = new OrderedDictionary<string, KeyShape>(StringComparer.Ordinal);
            foreach (var (key, value) in obj.Items)
                keys[key] = value.IsObject() ? Of(value.GetObject()) : Leaf.Instance;
            return new Section(keys);
        }

        public Section With(params (string Key, KeyShape Shape)[] more)
        {
            var keys = new OrderedDictionary<string, KeyShape>(Keys, StringComparer.Ordinal);
            foreach (var (key, shape) in more) keys[key] = shape;
            return new Section(keys);
        }
    }

    /// <summary>An object whose keys the user names (providers, models), each entry of the same shape.</summary>
    public sealed record Map(string Placeholder, KeyShape Entry) : KeyShape;

    /// <summary>A list whose object elements have one shape (a model's routes).</summary>
    public sealed record List(KeyShape Element) : KeyShape;

    /// <summary>Someone else's section (<c>akka</c>): not checked.</summary>
    public sealed record Unchecked : KeyShape
    {
        public static readonly Unchecked Instance = new();
    }
}
