using Microsoft.Data.Sqlite;
using Outpost.Core.Events;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// Checks a whole log file without changing it: SQLite's own integrity check for the file structure, then
/// every record's checksum. Where the file is too damaged to scan in order, each sequence up to the
/// last committed one is probed on its own, so the report names exactly the records that cannot be served.
/// </summary>
public static class SqliteLogVerifier
{
    /// <summary>Verifies the log at <paramref name="path"/>; it may be open by its owner, but should not be written meanwhile for a stable answer.</summary>
    public static VerificationReport Verify(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No log file at '{path}'.", path);
        }

        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        using var connection = new SqliteConnection(connectionString);
        var problems = new List<string>();
        var damaged = new List<DamagedRecord>();
        try
        {
            connection.Open();
            using var lenient = connection.CreateCommand();

            // A file shorter than its header says is refused whole unless the schema is "writable";
            // on a read-only connection this only lets SQLite use the real size, so each record can be probed.
            lenient.CommandText = "PRAGMA writable_schema = ON";
            lenient.ExecuteNonQuery();
        }
        catch (SqliteException ex)
        {
            return new VerificationReport(path, 0, 0, damaged, [$"The file cannot be opened as a log: {ex.Message}"]);
        }

        problems.AddRange(IntegrityProblems(connection));
        var lastSeq = Math.Max(TryScalar(connection, "SELECT value FROM meta WHERE key = 'last_seq'"), TryScalar(connection, "SELECT max(seq) FROM events"));
        var retained = TryScalar(connection, "SELECT value FROM meta WHERE key = 'deleted_events'");
        var checksum = new EventChecksum();
        var values = new RowReader.Values();
        var seen = new System.Collections.BitArray((int)Math.Min(int.MaxValue - 1, lastSeq + 1));
        long ok = 0;
        var scanFailed = false;
        string? select = null; // the file's columns, asked once, inside the reads' error handling (a damaged schema throws)
        try
        {
            using var scan = new RowReader(connection, (select ??= SqliteLogCommands.SelectColumnsOn(connection)) + " ORDER BY e.seq", values);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!Check(() => scan.Next(checksum), damaged, seen, out var more))
                {
                    continue;
                }

                if (!more)
                {
                    break;
                }

                ok++;
            }
        }
        catch (SqliteException ex) when (SqliteLogCommands.IsCorruption(ex))
        {
            scanFailed = true;
            problems.Add($"Scanning in order stopped: {ex.Message}.");
        }

        if (!scanFailed && problems.Count == 0)
        {
            return new VerificationReport(path, lastSeq, ok, damaged, problems);
        }

        // The file is damaged, and a damaged b-tree can skip rows without an error: probe every sequence
        // the scan did not confirm. A record that is not found was lost, unless retention ever deleted
        // anything (counted in meta); then the report gives the count that cannot be accounted for.
        long notFound = 0;
        for (var seq = 1L; seq <= lastSeq; seq++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (seq < seen.Length && seen[(int)seq])
            {
                continue;
            }

            try
            {
                using var probe = new RowReader(connection, (select ??= SqliteLogCommands.SelectColumnsOn(connection)) + " WHERE e.seq = $seq", values);
                probe.Bind("$seq", seq);
                if (!Check(() => probe.Next(checksum), damaged, seen, out var found))
                {
                    continue;
                }

                if (found)
                {
                    ok++;
                }
                else if (retained == 0)
                {
                    damaged.Add(new DamagedRecord(seq, "missing: the file no longer leads to it"));
                }
                else
                {
                    notFound++;
                }
            }
            catch (SqliteException ex) when (SqliteLogCommands.IsCorruption(ex))
            {
                damaged.Add(new DamagedRecord(seq, $"unreadable: {ex.Message}"));
            }
        }

        if (notFound > 0)
        {
            problems.Add($"{notFound} records were not found; retention has deleted {retained} records in all, so some of them may be lost.");
        }

        damaged.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        return new VerificationReport(path, lastSeq, ok, damaged, problems);
    }

    /// <summary>Reads one row: false when it was damaged (and recorded); otherwise whether there was a row.</summary>
    private static bool Check(Func<StoredEvent?> next, List<DamagedRecord> damaged, System.Collections.BitArray seen, out bool found)
    {
        found = false;
        try
        {
            var e = next();
            if (e is null)
            {
                return true;
            }

            if (e.Seq < seen.Length)
            {
                seen[(int)e.Seq] = true;
            }

            found = true;
            return true;
        }
        catch (LogCorruptionException ex) when (ex.Seq is { } seq)
        {
            damaged.Add(new DamagedRecord(seq, ex.Message));
            if (seq < seen.Length)
            {
                seen[(int)seq] = true;
            }

            return false;
        }
    }

    private static List<string> IntegrityProblems(SqliteConnection connection)
    {
        var problems = new List<string>();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA integrity_check(100)";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var line = reader.GetString(0);
                if (line != "ok")
                {
                    problems.Add(line);
                }
            }
        }
        catch (SqliteException ex) when (SqliteLogCommands.IsCorruption(ex))
        {
            problems.Add($"SQLite's integrity check could not run: {ex.Message}");
        }

        return problems;
    }

    private static long TryScalar(SqliteConnection connection, string sql)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return command.ExecuteScalar() is long value ? value : 0;
        }
        catch (SqliteException ex) when (SqliteLogCommands.IsCorruption(ex) || ex.SqliteErrorCode == 1)
        {
            return 0;
        }
    }
}
