using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Retail;

/// <summary>Store settings HQ sets by scope (the admin API's <c>PUT /admin/config/{key}</c>), compacted by scope and key.</summary>
public static class ConfigEvents
{
    /// <summary>The topic (down, compacted).</summary>
    public const string Topic = "config";

    /// <summary>A setting's value for the stores in the event's scope.</summary>
    public const string ConfigSet = "ConfigSet";
}

/// <summary>Version 1 of <c>ConfigSet</c>: a store setting, in the scope of the event; key <c>scope|setting</c>.</summary>
/// <param name="Key">The setting.</param>
/// <param name="Value">Its value: any JSON value.</param>
public sealed record ConfigSetV1(string Key, JsonElement Value);

/// <summary>Source-generated JSON for the configuration events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ConfigSetV1))]
public sealed partial class ConfigJsonContext : JsonSerializerContext;
