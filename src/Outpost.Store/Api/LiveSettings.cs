using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Outpost.Retail;
using Outpost.Retail.Checkout;
using Outpost.Sync.Rollouts;

namespace Outpost.Store.Api;

/// <summary>What <see cref="LiveSettings.Apply"/> could not do.</summary>
public sealed class LiveSettingsException(string message, bool needsRestart) : Exception(message)
{
    /// <summary>True when the settings are valid but only a restart applies them; false when they are invalid.</summary>
    public bool NeedsRestart { get; } = needsRestart;
}

/// <summary>
/// A release's settings applied to the running store server, without a restart: the checkout rules
/// (<c>Retail:Checkout:*</c>: floor limit, refund limit, line limits, store name, event versions) are read per operation, so they are
/// bound over the rules the process started with and swapped in whole. Other settings (loyalty, consumers) are read
/// at start-up only: those ask for a restart. What was applied is kept in <c>release-settings.json</c> in the data
/// folder with a fingerprint of the rules the process started with, so a restart of the same container keeps it; a
/// container started with other rules (a release applied by the runtime, with its settings in the environment) finds
/// the fingerprint changed and drops the file.
/// </summary>
public sealed class LiveSettings(StoreOptions options, StoreServices services)
{
    /// <summary>The keys this applies without a restart start with this.</summary>
    public const string LivePrefix = "Retail:Checkout:";

    private readonly CheckoutOptions _baseline = options.Retail.Checkout;
    private readonly object _gate = new();

    private string FilePath => Path.Combine(options.DataDirectory, "release-settings.json");

    /// <summary>The release whose settings were applied live, if any.</summary>
    public string? Version { get; private set; }

    /// <summary>The checkout rules in force, by configuration key.</summary>
    public IReadOnlyDictionary<string, string> Current => Describe(services.Retail.Checkout.Options);

    /// <summary>Binds <paramref name="settings"/> over the start-up rules and puts them in force; throws <see cref="LiveSettingsException"/> when it cannot.</summary>
    public void Apply(string version, IReadOnlyDictionary<string, string> settings)
    {
        var later = settings.Keys.Where(k => !k.StartsWith(LivePrefix, StringComparison.Ordinal) || !Scalars.ContainsKey(k[LivePrefix.Length..])).Order(StringComparer.Ordinal).ToList();
        if (later.Count > 0)
        {
            throw new LiveSettingsException($"{string.Join(", ", later)}: read at start-up only; a restart applies them.", needsRestart: true);
        }

        var rules = Bind(settings);
        lock (_gate)
        {
            services.Retail.Checkout.Options = rules;
            Version = version;
            var file = FilePath + ".next";
            File.WriteAllText(file, JsonSerializer.Serialize(new Saved(Fingerprint(_baseline), version, new Dictionary<string, string>(settings)), StoreJsonContext.Default.Saved));
            File.Move(file, FilePath, overwrite: true);
        }
    }

    /// <summary>At start-up: puts back what was applied live before a restart of the same container, or drops it.</summary>
    public void Restore()
    {
        if (!File.Exists(FilePath))
        {
            return;
        }

        var saved = JsonSerializer.Deserialize(File.ReadAllText(FilePath), StoreJsonContext.Default.Saved);
        if (saved is null || saved.Baseline != Fingerprint(_baseline))
        {
            File.Delete(FilePath); // started with other rules: a release applied by the runtime, whose settings these are not
            return;
        }

        services.Retail.Checkout.Options = Bind(saved.Settings);
        Version = saved.Version;
    }

    private CheckoutOptions Bind(IReadOnlyDictionary<string, string> settings)
    {
        var retail = new RetailOptions { Checkout = _baseline with { } };
        try
        {
            new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build()
                .GetSection("Retail").Bind(retail);
        }
        catch (InvalidOperationException ex)
        {
            throw new LiveSettingsException($"A setting's value is not of its type: {(ex.InnerException ?? ex).Message}", needsRestart: false);
        }

        return retail.Checkout;
    }

    private static readonly Dictionary<string, PropertyInfo> Scalars = typeof(CheckoutOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.PropertyType == typeof(decimal) || p.PropertyType == typeof(int) || p.PropertyType == typeof(string) || p.PropertyType == typeof(bool) || p.PropertyType.IsEnum)
        .ToDictionary(p => p.Name, StringComparer.Ordinal);

    private static Dictionary<string, string> Describe(CheckoutOptions rules) => Scalars.ToDictionary(p => LivePrefix + p.Key,
        p => Convert.ToString(p.Value.GetValue(rules), CultureInfo.InvariantCulture) ?? "", StringComparer.Ordinal);

    private static string Fingerprint(CheckoutOptions rules) => string.Join(";", Describe(rules).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    /// <summary>The file: the start-up rules' fingerprint, the release, its settings.</summary>
    public sealed record Saved(string Baseline, string Version, Dictionary<string, string> Settings);
}
