using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Outpost.Cli.Bench;

/// <summary>The physical limit the benchmarks compare against: SQLite's fastest insert path on this machine, in the same run.</summary>
internal static class RawSqlite
{
    public const int Batch = 1000;

    /// <summary>
    /// Native binding by index, the fastest way to insert through SQLite. With <paramref name="sameRows"/>
    /// the table has the log's 13 columns and each row the same bytes as a log record, but no index, no
    /// checksum, no validation and no queue: the limit the log is held to. Without it, a 3-column table.
    /// </summary>
    public static double BatchInsert(string directory, int events, byte[] payload, bool sameRows, CancellationToken cancellationToken)
    {
        using var connection = Connection(directory, sameRows ? "raw-rows.db" : "raw-batch.db");
        var db = connection.Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, sameRows
            ? "INSERT INTO rows VALUES(?1, ?6, ?7, ?8, ?2, ?9, ?1, ?3, ?10, ?11, ?12, ?4, ?5)"
            : "INSERT INTO raw(topic, key, payload) VALUES('sales', ?2, ?4)", out var insert));
        using var statement = insert;
        Span<byte> key = stackalloc byte[16];
        var hlc = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 16;
        var stopwatch = Stopwatch.StartNew();
        for (var done = 0; done < events; done += Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Check(db, raw.sqlite3_exec(db, "BEGIN IMMEDIATE"));
            for (var i = done; i < Math.Min(events, done + Batch); i++)
            {
                key[0] = (byte)'k';
                i.TryFormat(key[1..], out var written, provider: CultureInfo.InvariantCulture);
                raw.sqlite3_bind_text(insert, 2, key[..(written + 1)]);
                raw.sqlite3_bind_blob(insert, 4, payload);
                if (sameRows)
                {
                    // Every value bound, as the log must: nothing comes free as a literal in the SQL.
                    raw.sqlite3_bind_int64(insert, 1, i + 1);
                    raw.sqlite3_bind_int64(insert, 3, hlc + i);
                    raw.sqlite3_bind_int64(insert, 5, i * 7919L);
                    raw.sqlite3_bind_text(insert, 6, "sales"u8);
                    raw.sqlite3_bind_text(insert, 7, "SaleCompleted"u8);
                    raw.sqlite3_bind_int64(insert, 8, 1);
                    raw.sqlite3_bind_int64(insert, 9, 1);
                    raw.sqlite3_bind_text(insert, 10, "*"u8);
                    raw.sqlite3_bind_null(insert, 11);
                    raw.sqlite3_bind_null(insert, 12);
                }

                Check(db, raw.sqlite3_step(insert));
                raw.sqlite3_reset(insert);
            }

            Check(db, raw.sqlite3_exec(db, "COMMIT"));
        }

        return events / stopwatch.Elapsed.TotalSeconds;
    }

    internal static void Check(sqlite3 db, int rc)
    {
        if (rc is not raw.SQLITE_OK and not raw.SQLITE_DONE)
        {
            throw new InvalidOperationException($"SQLite error {rc}: {raw.sqlite3_errmsg(db).utf8_to_string()}");
        }
    }

    public static SqliteConnection Connection(string directory, string name)
    {
        var path = Path.Combine(directory, name);
        LogBenchmark.DeleteDatabase(path);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var setup = connection.CreateCommand();
        setup.CommandText = """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE raw(id INTEGER PRIMARY KEY, topic TEXT NOT NULL, key TEXT NOT NULL, payload BLOB NOT NULL);
            CREATE TABLE rows(seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, type TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL,
                origin_id INTEGER NOT NULL, origin_seq INTEGER NOT NULL, hlc INTEGER NOT NULL, scope TEXT NOT NULL,
                correlation_id TEXT, causation_id TEXT, payload BLOB NOT NULL, checksum INTEGER NOT NULL);
            """;
        setup.ExecuteNonQuery();
        return connection;
    }

}
