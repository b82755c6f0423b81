using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using Json.Schema;

namespace Outpost.Core.Contracts;

/// <summary>What is wrong with an event a publisher sent: the field (for example <c>payload.amount</c>) and why.</summary>
/// <param name="Field">The field: <c>topic</c>, <c>type</c>, <c>version</c>, <c>payload</c> or a path inside the payload.</param>
/// <param name="Message">What is wrong with it.</param>
public sealed record ContractViolation(string Field, string Message);

/// <summary>
/// The published shape of one event type at one version on one topic: a JSON Schema (draft 2020-12) that external
/// publishers' payloads are checked against, and that other teams generate their readers from. Outpost's own contracts
/// are generated from the C# records the code writes and reads (<see cref="FromRecord{T}"/>), so the record is the one
/// source of truth; a service's own types come with a schema of their own (<see cref="FromSchema"/>).
/// </summary>
public sealed class EventContract
{
    /// <summary>The draft the schemas follow.</summary>
    public const string Draft = "https://json-schema.org/draft/2020-12/schema";

    // A store-local date and time has no offset (a price from 06:00 wherever the store is), and a time of day has none
    // either, so RFC 3339's date-time and time formats, which require one, would refuse what the code writes.
    private const string LocalDateTimePattern = @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?$";
    private const string TimeOfDayPattern = @"^\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$";

    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List };

    // Valid or not, first: the flag output stops at the first failure and collects nothing. Only a payload that fails
    // is evaluated again for the list of what is wrong.
    private static readonly EvaluationOptions Verdict = new() { OutputFormat = OutputFormat.Flag };
    // Served as application/schema+json and kept as files, never embedded in HTML: patterns keep their '+' readable.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly JsonSchema _schema;
    private readonly Func<JsonElement, ContractViolation?>? _read;

    private EventContract(string topic, string type, int version, JsonObject schema, Func<JsonElement, ContractViolation?>? read)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        Topic = topic;
        Type = type;
        Version = version;
        var document = new JsonObject
        {
            ["$schema"] = Draft,
            ["$id"] = Id(topic, type, version),
            ["title"] = $"{type} v{version.ToString(CultureInfo.InvariantCulture)} on topic {topic}",
            ["x-outpost-topic"] = topic,
            ["x-outpost-type"] = type,
            ["x-outpost-version"] = version,
        };
        foreach (var (name, value) in schema)
        {
            if (name is not ("$schema" or "$id" or "title"))
            {
                document[name] = value?.DeepClone();
            }
        }

        Schema = document.ToJsonString(Indented);
        JsonElement root;
        using (var parsed = JsonDocument.Parse(Schema))
        {
            root = parsed.RootElement.Clone(); // the built schema keeps reading its element
        }

        // A registry of its own: the contracts of two catalogs (a store's and a test's) never collide on their ids.
        _schema = JsonSchema.Build(root, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        _read = read;
    }

    /// <summary>The topic the type is published on.</summary>
    public string Topic { get; }

    /// <summary>The event type.</summary>
    public string Type { get; }

    /// <summary>The type's version.</summary>
    public int Version { get; }

    /// <summary>The schema document (indented JSON), as served and kept in <c>docs/contracts/</c>.</summary>
    public string Schema { get; }

    /// <summary>The schema's <c>$id</c>.</summary>
    public static string Id(string topic, string type, int version) =>
        $"urn:outpost:event:{topic}:{type}:v{version.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The contract of a C# record, generated from the serializer's own metadata: the fields the record's constructor
    /// takes are required, a field is nullable only when its C# type is, and a field the record does not have is refused.
    /// </summary>
    public static EventContract FromRecord<T>(string topic, string type, int version, JsonTypeInfo<T> info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var strict = new JsonSerializerOptions(info.Options) { RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true };
        var strictInfo = (JsonTypeInfo<T>)strict.GetTypeInfo(typeof(T));
        var schema = JsonSchemaExporter.GetJsonSchemaAsNode(strictInfo, new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = Refine,
        });
        return new EventContract(topic, type, version, schema.AsObject(), payload => Read(payload, strictInfo));
    }

    /// <summary>A contract from a schema of its own (a service's event type); throws <see cref="ArgumentException"/> naming what is wrong with it.</summary>
    public static EventContract FromSchema(string topic, string type, int version, string schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(schema);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"The schema of {type} v{version} is not JSON: {ex.Message}", nameof(schema), ex);
        }

        if (node is not JsonObject obj)
        {
            throw new ArgumentException($"The schema of {type} v{version} must be a JSON object.", nameof(schema));
        }

        try
        {
            return new EventContract(topic, type, version, obj, null);
        }
        catch (JsonSchemaException ex)
        {
            throw new ArgumentException($"The schema of {type} v{version} is not a valid JSON Schema: {ex.Message}", nameof(schema), ex);
        }
    }

    /// <summary>What is wrong with a payload of this type and version; empty when nothing is.</summary>
    public IReadOnlyList<ContractViolation> Check(JsonElement payload)
    {
        if (_schema.Evaluate(payload, Verdict).IsValid)
        {
            return _read?.Invoke(payload) is { } unreadable ? [unreadable] : [];
        }

        var results = _schema.Evaluate(payload, Evaluation);

        var found = new List<ContractViolation>();
        Collect(results, found);
        foreach (var detail in results.Details ?? [])
        {
            Collect(detail, found);
        }

        return found.Count > 0 ? found : [new ContractViolation("payload", $"Does not match the schema of {Type} v{Version}.")];
    }

    /// <inheritdoc />
    public override string ToString() => $"{Topic}/{Type} v{Version}";

    private static void Collect(EvaluationResults result, List<ContractViolation> found)
    {
        if (result.IsValid || result.Errors is not { Count: > 0 } errors)
        {
            return;
        }

        var field = Field(result.InstanceLocation.ToString());
        foreach (var (keyword, message) in errors)
        {
            // additionalProperties: false answers every field the type does not have with "the false schema".
            var violation = keyword == "false" || message.Contains("false schema", StringComparison.Ordinal)
                ? new ContractViolation(field, "Not a field of this event type and version.")
                : new ContractViolation(field, message);
            if (!found.Contains(violation))
            {
                found.Add(violation);
            }
        }
    }

    // "/lines/0/gtin" -> "payload.lines[0].gtin".
    private static string Field(string pointer)
    {
        var field = new System.Text.StringBuilder("payload");
        foreach (var raw in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            field.Append(int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? $"[{segment}]" : "." + segment);
        }

        return field.ToString();
    }

    // "$.lines[0].gtin" -> "payload.lines[0].gtin".
    private static ContractViolation? Read<T>(JsonElement payload, JsonTypeInfo<T> info)
    {
        try
        {
            JsonSerializer.Deserialize(payload, info);
            return null;
        }
        catch (JsonException ex)
        {
            var path = ex.Path is { Length: > 0 } p ? "payload" + p.TrimStart('$') : "payload";
            return new ContractViolation(path, ex.Message);
        }
    }

    private static JsonNode Refine(JsonSchemaExporterContext context, JsonNode schema)
    {
        if (schema is not JsonObject obj)
        {
            return schema;
        }

        var type = Nullable.GetUnderlyingType(context.TypeInfo.Type) ?? context.TypeInfo.Type;
        if (type == typeof(DateTime) || type == typeof(TimeOnly))
        {
            obj.Remove("format");
            obj["pattern"] = type == typeof(DateTime) ? LocalDateTimePattern : TimeOfDayPattern;
            obj["description"] = type == typeof(DateTime)
                ? "ISO 8601 date and time; without an offset it is the store's local time."
                : "A time of day, hh:mm or hh:mm:ss.";
        }
        else if (context.TypeInfo.Kind == JsonTypeInfoKind.Object && obj.ContainsKey("properties"))
        {
            obj["additionalProperties"] = false;
        }

        return schema;
    }
}
