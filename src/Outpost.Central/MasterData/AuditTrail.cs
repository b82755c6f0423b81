using System.Globalization;
using System.Text.Json.Serialization;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;

namespace Outpost.Central.MasterData;

/// <summary>
/// Who changed what at HQ: every event an admin published (master data, settings, store credentials) is tagged
/// <c>admin:&lt;name&gt;</c>, and this read model lists them. Derived from the log, so an entry exists exactly when
/// the change does, whatever crashes.
/// </summary>
public sealed class AuditTrail(TopicCatalog topics) : IEventConsumer
{
    /// <summary>Local topic of admin actions that are not master data (store credentials).</summary>
    public const string AuditTopic = "audit";

    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS hq_audit(
            seq    BIGINT PRIMARY KEY,
            at     BIGINT NOT NULL,
            actor  TEXT   NOT NULL,
            topic  TEXT   NOT NULL,
            type   TEXT   NOT NULL,
            key    TEXT   NOT NULL,
            scope  TEXT   NOT NULL)
        """;

    /// <inheritdoc />
    public string Name => "hq-audit";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = new() { Topics = [.. topics.InDirection(TopicDirection.Down).Select(p => p.Topic), AuditTopic] };

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.CorrelationId is not { } tag || !tag.StartsWith("admin:", StringComparison.Ordinal))
        {
            return;
        }

        await transaction.ExecuteAsync("""
            INSERT INTO hq_audit(seq, at, actor, topic, type, key, scope) VALUES(@seq, @at, @actor, @topic, @type, @key, @scope)
            ON CONFLICT(seq) DO NOTHING
            """, cancellationToken, ("@seq", e.Seq), ("@at", e.Origin.Timestamp.PhysicalMilliseconds), ("@actor", tag["admin:".Length..]), ("@topic", e.Topic),
            ("@type", e.Type), ("@key", e.Key), ("@scope", e.Scope.ToString()));
    }

    /// <summary>The newest entries first.</summary>
    public static async Task<IReadOnlyList<AuditEntry>> ListAsync(IEventLog log, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, at, actor, topic, type, key, scope FROM hq_audit ORDER BY seq DESC LIMIT @limit";
        command.With("@limit", limit);
        var entries = new List<AuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new AuditEntry(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture),
                DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture)),
                reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6)));
        }

        return entries;
    }
}

/// <summary>Version 1 of the store-credential audit events (<c>StoreRegistered</c>, <c>CredentialRotated</c>, <c>CredentialRevoked</c>): never the secret.</summary>
/// <param name="StoreId">The store.</param>
public sealed record StoreCredentialChangedV1(string StoreId);

/// <summary>Source-generated JSON for master data.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(List<ProductBody>))]
[JsonSerializable(typeof(ProductBody))]
[JsonSerializable(typeof(MenuItemBody))]
[JsonSerializable(typeof(PriceBody))]
[JsonSerializable(typeof(PromotionBody))]
[JsonSerializable(typeof(ConfigBody))]
[JsonSerializable(typeof(FieldError))]
[JsonSerializable(typeof(List<FieldError>))]
[JsonSerializable(typeof(Applied))]
[JsonSerializable(typeof(IReadOnlyList<AuditEntry>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(StoreCredentialChangedV1))]
public sealed partial class MasterDataJsonContext : JsonSerializerContext;
