using System.Globalization;
using Npgsql;

namespace Outpost.Core.Postgres;

/// <summary>
/// The log's tables on PostgreSQL, as numbered migrations applied at start-up. Several HQ nodes may start at
/// once: each migration runs in its own transaction under an advisory lock, so exactly one of them applies it.
/// A database migrated by newer software is refused.
/// </summary>
internal static class PostgresLogSchema
{
    /// <summary>The advisory lock key that serialises migrations (any constant that no other code uses).</summary>
    private const long MigrationLock = 0x6f7574706f7374; // "outpost"

    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE log_head(
            id   integer PRIMARY KEY CHECK (id = 1),
            seq  bigint  NOT NULL,
            hlc  bigint  NOT NULL);
        INSERT INTO log_head(id, seq, hlc) VALUES (1, 0, 0);
        CREATE TABLE nodes(
            id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name           text    NOT NULL UNIQUE,
            contiguous_seq bigint  NOT NULL DEFAULT 0,
            max_seq        bigint  NOT NULL DEFAULT 0);
        CREATE TABLE events(
            seq            bigint   PRIMARY KEY,
            topic          text     NOT NULL,
            type           text     NOT NULL,
            version        integer  NOT NULL,
            key            text     NOT NULL,
            origin_id      integer  NOT NULL,
            origin_seq     bigint   NOT NULL,
            hlc            bigint   NOT NULL,
            scope          text     NOT NULL,
            correlation_id text,
            causation_id   text,
            payload        bytea    NOT NULL,
            checksum       bigint   NOT NULL,
            down           boolean  NOT NULL DEFAULT false);
        -- Idempotence: one row per (origin, origin seq), whoever appended it.
        CREATE UNIQUE INDEX events_by_origin ON events(origin_id, origin_seq);
        -- A store's down feed reads a few scopes of a few down topics after its cursor, one index range per pair,
        -- however many millions of store events the log holds. Only down events are in the index (a topic's
        -- direction is fixed once shipped), so ingesting a store's events does not pay for it.
        CREATE INDEX events_down_feed ON events(scope, topic, seq) WHERE down;
        CREATE TABLE cursors(
            name  text    PRIMARY KEY,
            kind  integer NOT NULL,
            value bigint  NOT NULL);
        CREATE TABLE dead_letters(
            consumer  text    NOT NULL,
            seq       bigint  NOT NULL,
            topic     text    NOT NULL,
            type      text    NOT NULL,
            attempts  integer NOT NULL,
            error     text    NOT NULL,
            parked_at bigint  NOT NULL,
            PRIMARY KEY(consumer, seq));
        CREATE TABLE topic_evictions(
            topic  text   PRIMARY KEY,
            events bigint NOT NULL,
            bytes  bigint NOT NULL);
        """,
        """
        -- Where each (topic, type) may be found: stretches of sequences, kept by the writer in the commit that appends,
        -- so a read model that reads a few types skips the stretches of the log that hold none of them instead of
        -- reading every event to filter it (HQ's read models of stock, campaigns and master data among millions of
        -- sales). A stretch may also cover other events; no event of its pair lies outside its pair's stretches.
        CREATE TABLE log_stretches(
            topic    text   NOT NULL,
            type     text   NOT NULL,
            seq_from bigint NOT NULL,
            seq_to   bigint NOT NULL,
            PRIMARY KEY (topic, type, seq_from));
        CREATE INDEX log_stretches_by_end ON log_stretches(topic, type, seq_to);
        -- A log written before stretches existed: one stretch per pair over all it holds (read as before, once).
        INSERT INTO log_stretches(topic, type, seq_from, seq_to) SELECT topic, type, min(seq), max(seq) FROM events GROUP BY topic, type;
        """,
        """
        -- The highest sequence retention removed from each topic (done and past its grace, or over its byte budget), so a
        -- reader behind it is told it missed events instead of skipping them unawares.
        CREATE TABLE topic_floors(
            topic           text   PRIMARY KEY,
            removed_through bigint NOT NULL);
        """,
    ];

    /// <summary>The newest schema this software knows.</summary>
    public static int Version => Migrations.Length;

    public static async Task MigrateAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS outpost_migrations(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", connection))
        {
            try
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
            {
                // Another node created it at the same moment.
            }
        }

        for (var version = 1; version <= Migrations.Length; version++)
        {
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLock})", connection, tx))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var current = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM outpost_migrations", connection, tx);
            var applied = Convert.ToInt32(await current.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            if (applied > Migrations.Length)
            {
                throw new InvalidOperationException(
                    $"The PostgreSQL log '{connection.Database}' has schema version {applied}; this software knows up to {Migrations.Length}. Upgrade Outpost before opening it.");
            }

            if (applied >= version)
            {
                continue;
            }

            await using (var migrate = new NpgsqlCommand(Migrations[version - 1], connection, tx))
            {
                await migrate.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = new NpgsqlCommand("INSERT INTO outpost_migrations(version) VALUES ($1)", connection, tx))
            {
                record.Parameters.AddWithValue(version);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }

        await AddColumnAsync(connection, "events", "trace", "text", cancellationToken);
    }

    /// <summary>
    /// An additive change, outside the numbered versions: a nullable column the previous release neither reads nor writes
    /// (it names its columns), so an HQ can still roll back to it. Checked first, so a node starting beside busy ones
    /// takes no table lock when the column is there.
    /// </summary>
    private static async Task AddColumnAsync(NpgsqlConnection connection, string table, string column, string type, CancellationToken cancellationToken)
    {
        const string Exists = "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2";
        await using (var check = new NpgsqlCommand(Exists, connection))
        {
            check.Parameters.AddWithValue(table);
            check.Parameters.AddWithValue(column);
            if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0)
            {
                return;
            }
        }

        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLock})", connection, tx))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var add = new NpgsqlCommand($"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type}", connection, tx))
        {
            await add.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }
}
