using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Outpost.Retail;

namespace Outpost.Central.Rollouts;

/// <summary>
/// The store settings a release may set, as configuration keys the store binds (<c>Retail:Checkout:OfflineFloorLimit</c>):
/// every plain value (number, text, flag, duration, one of a list) of <see cref="RetailOptions"/>, found by reflection so that a
/// setting added to the options is releasable without a list to keep in step. Anything else is refused by name.
/// </summary>
public static class ReleaseSettings
{
    // Where a store keeps its files is the store's own business, not a release's. (Declared first: Known reads it.)
    private static readonly HashSet<string> NotReleasable = new(StringComparer.Ordinal) { "Retail:BasketsPath" };

    /// <summary>Every releasable key, with its value type.</summary>
    public static IReadOnlyDictionary<string, Type> Known { get; } =
        Walk(typeof(RetailOptions), "Retail").Where(k => !NotReleasable.Contains(k.Key)).ToDictionary(StringComparer.Ordinal);


    /// <summary>Null when every setting is known and of its type (as text, with the invariant culture); otherwise what is wrong.</summary>
    public static string? Validate(IReadOnlyDictionary<string, JsonElement> settings, out Dictionary<string, string> normalised)
    {
        ArgumentNullException.ThrowIfNull(settings);
        normalised = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in settings)
        {
            if (!Known.TryGetValue(key, out var type))
            {
                return $"'{key}' is not a setting a release can change. Known: {string.Join(", ", Known.Keys.Order(StringComparer.Ordinal))}.";
            }

            var text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                _ => null,
            };
            if (text is null || !Fits(text, type))
            {
                return $"'{key}' takes {Describe(type)}, not {value.GetRawText()}.";
            }

            normalised[key] = text;
        }

        return null;
    }

    private static bool Fits(string text, Type type)
    {
        var c = CultureInfo.InvariantCulture;
        return type == typeof(string) ? text.Length <= 1000
            : type == typeof(decimal) ? decimal.TryParse(text, NumberStyles.Number, c, out var d) && d >= 0
            : type == typeof(int) ? int.TryParse(text, NumberStyles.Integer, c, out var i) && i >= 0
            : type == typeof(long) ? long.TryParse(text, NumberStyles.Integer, c, out var l) && l >= 0
            : type == typeof(bool) ? bool.TryParse(text, out _)
            : type.IsEnum ? Enum.GetNames(type).Contains(text, StringComparer.OrdinalIgnoreCase)
            : type == typeof(TimeSpan) && TimeSpan.TryParse(text, c, out var t) && t >= TimeSpan.Zero;
    }

    private static string Describe(Type type) =>
        type == typeof(TimeSpan) ? "a duration such as 00:05:00" : type == typeof(bool) ? "true or false" : type == typeof(string) ? "text"
        : type.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(type)) : "a number, 0 or more";

    private static Dictionary<string, Type> Walk(Type type, string prefix)
    {
        var keys = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var t = property.PropertyType;
            if (t == typeof(string) || t == typeof(decimal) || t == typeof(int) || t == typeof(long) || t == typeof(bool) || t == typeof(TimeSpan) || t.IsEnum)
            {
                keys[$"{prefix}:{property.Name}"] = t;
            }
            else if (t.IsClass && t.Namespace?.StartsWith("Outpost.", StringComparison.Ordinal) == true && t.GetConstructor(Type.EmptyTypes) is not null)
            {
                foreach (var (key, inner) in Walk(t, $"{prefix}:{property.Name}"))
                {
                    keys[key] = inner;
                }
            }
        }

        return keys;
    }
}
