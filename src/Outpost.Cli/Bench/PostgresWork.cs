using Npgsql;

namespace Outpost.Cli.Bench;

/// <summary>
/// What PostgreSQL did over a phase, from its statistics views (server-wide, PostgreSQL 15): transactions committed,
/// WAL written (records, bytes, full-page images, flushes to disk) and pages its backends had to write out
/// themselves, and rows written to tables other than the log's. Per row it says where a write path's cost beyond a
/// plain COPY goes: more commits, more WAL, more first-touch page images after a checkpoint, more backends evicting
/// dirty pages, or other work in the same database (HQ's read models consume every sale as it arrives).
/// </summary>
internal sealed record PostgresWork(double Commits, double WalRecords, double WalBytes, double WalFullPageImages, double WalSyncs, double BackendWrites, double OtherRows = 0)
{
    /// <summary>
    /// How long to wait after a phase before reading: a PostgreSQL 15 backend flushes its statistics at most once a
    /// second while busy, and an idle one (a pooled connection) up to 10 s after its last transaction.
    /// </summary>
    public static readonly TimeSpan FlushDelay = TimeSpan.FromSeconds(11);

    public static async Task<PostgresWork> ReadAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var read = new NpgsqlCommand("""
            SELECT (SELECT sum(xact_commit) FROM pg_stat_database)::float8, wal_records::float8, wal_bytes::float8, wal_fpi::float8, wal_sync::float8,
                   (SELECT buffers_backend FROM pg_stat_bgwriter)::float8,
                   (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables WHERE relname NOT IN ('events', 'raw_events'))::float8
            FROM pg_stat_wal
            """, connection);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new PostgresWork(reader.GetDouble(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetDouble(4), reader.GetDouble(5), reader.GetDouble(6));
    }

    public PostgresWork Since(PostgresWork before) => new(Commits - before.Commits, WalRecords - before.WalRecords, WalBytes - before.WalBytes,
        WalFullPageImages - before.WalFullPageImages, WalSyncs - before.WalSyncs, BackendWrites - before.BackendWrites, OtherRows - before.OtherRows);

    /// <summary>One line: per row, and the totals that are small.</summary>
    public string Describe(long rows) =>
        $"PostgreSQL per row: {WalBytes / rows:F0} B of WAL in {WalRecords / rows:F2} records, {WalFullPageImages / rows * 1000:F1} full-page images per 1,000 rows; "
        + $"{Commits:N0} commits, {WalSyncs:N0} WAL flushes, {BackendWrites:N0} pages written out by backends; "
        + $"{OtherRows / rows:F2} rows of other tables written per row (HQ's read models, the log's bookkeeping: work a COPY does not do)";
}

/// <summary>
/// PostgreSQL's CPU over a phase by process: the connections' backends (the COPYs and queries), the checkpointer,
/// the WAL and background writers, autovacuum, and processes that ended during the phase (reaped by the server, their
/// whole life's CPU arrives then). It says whether a write path's PostgreSQL cost is in its statements or around them.
/// </summary>
internal sealed record PostgresProcesses(IReadOnlyDictionary<string, TimeSpan> Cpu)
{
    public static PostgresProcesses? Read(int? postmaster) =>
        postmaster is { } id && OperatingSystem.IsLinux() ? new(CpuLedger.ProcessTreeByKind(id, Kind)) : null;

    public PostgresProcesses Since(PostgresProcesses before) =>
        new(Cpu.ToDictionary(c => c.Key, c => c.Value - before.Cpu.GetValueOrDefault(c.Key), StringComparer.Ordinal));

    /// <summary>Each kind's CPU per row, largest first.</summary>
    public string Describe(long rows) =>
        string.Join(", ", Cpu.Where(c => c.Value > TimeSpan.Zero).OrderByDescending(c => c.Value)
            .Select(c => $"{c.Key} {c.Value.TotalSeconds / rows * 1e6:F2} µs"));

    private static string Kind(string title) => title switch
    {
        _ when title.Contains("autovacuum", StringComparison.Ordinal) => "autovacuum",
        _ when title.Contains("checkpointer", StringComparison.Ordinal) => "checkpointer",
        _ when title.Contains("walwriter", StringComparison.Ordinal) => "WAL writer",
        _ when title.Contains("background writer", StringComparison.Ordinal) => "background writer",
        _ when title.Contains('(', StringComparison.Ordinal) => "connections (COPY, queries)",
        _ => "other server processes",
    };
}
