using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// A prepared statement on a connection's native handle, bound by parameter index. The append path uses
/// it because ADO.NET looks every parameter up by name on every execution, which costs more than
/// SQLite's own work for a small row.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(raw.sqlite3_prepare_v2(_db, sql, out _statement));
    }

    public void Bind(int index, long value) => Check(NativeSqlite.sqlite3_bind_int64(_statement.DangerousGetHandle(), index, value));

    public void BindText(int index, ReadOnlySpan<byte> utf8) => Check(NativeSqlite.BindText(_statement.DangerousGetHandle(), index, utf8));

    public void BindBlob(int index, ReadOnlySpan<byte> bytes) => Check(NativeSqlite.BindBlob(_statement.DangerousGetHandle(), index, bytes));

    public void BindNull(int index) => Check(NativeSqlite.sqlite3_bind_null(_statement.DangerousGetHandle(), index));

    /// <summary>Runs the statement to completion and returns how many rows it changed.</summary>
    public int Execute()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc != raw.SQLITE_DONE)
            {
                Check(rc);
            }

            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc is not raw.SQLITE_OK and not raw.SQLITE_DONE and not raw.SQLITE_ROW)
        {
            throw new SqliteException($"SQLite Error {rc}: {raw.sqlite3_errmsg(_db).utf8_to_string()}", rc, raw.sqlite3_extended_errcode(_db));
        }
    }
}
