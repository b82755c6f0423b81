using Microsoft.Data.Sqlite;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// Copies a SQLite file's write-ahead log into the file in the background, on a connection of its own, every
/// <c>interval</c> when anything was committed since the last pass. PASSIVE: it never blocks readers or the writer.
/// The file's own connections set <c>wal_autocheckpoint = 0</c>, so no commit pays for a checkpoint (and its
/// fsyncs) because it happened to cross the WAL's size threshold. Frequent checkpoints also let the writer restart
/// the WAL from its beginning, so commits overwrite blocks the file already has instead of growing it (a growing
/// file makes every fsync flush its size too). A checkpoint that fails (a full disk: copying pages into the file can
/// need room the WAL did not) is tried again, backing off to <see cref="MaxBackoff"/>: the file's own connections
/// never checkpoint, so a loop that gave up would let the WAL grow until the server restarted.
/// </summary>
public sealed class WalCheckpointer : IAsyncDisposable
{
    /// <summary>The longest wait between two tries while checkpoints keep failing.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _closing = new();
    private readonly Task _loop;
    private long _passes;

    /// <param name="open">Opens a connection to the file (the checkpointer closes it).</param>
    /// <param name="version">A number that changes whenever something was committed (a log's head, a count of saves).</param>
    /// <param name="interval">How often to look.</param>
    /// <param name="failed">Told when checkpoints start failing (once a run of failures; the loop goes on trying).</param>
    public WalCheckpointer(Func<SqliteConnection> open, Func<long> version, TimeSpan interval, Action<SqliteException> failed)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(failed);
        _loop = Task.Run(() => RunAsync(open, version, interval, failed));
    }

    /// <summary>How many checkpoints have completed.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        await _loop;
        _closing.Dispose();
    }

    private async Task RunAsync(Func<SqliteConnection> open, Func<long> version, TimeSpan interval, Action<SqliteException> failed)
    {
        var done = long.MinValue; // the first pass copies whatever an earlier run left in the WAL
        var failures = 0;
        SqliteConnection? connection = null;
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                // A timer, not a wake-up per commit: single commits should not pay for a second thread.
                await Task.Delay(failures == 0 ? interval : Backoff(interval, failures), _closing.Token);
                var now = version();
                if (now == done)
                {
                    continue;
                }

                try
                {
                    connection ??= open();
                    await using var checkpoint = connection.CreateCommand();
                    checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                    await checkpoint.ExecuteNonQueryAsync(_closing.Token);
                    done = now;
                    failures = 0;
                    Interlocked.Increment(ref _passes);
                }
                catch (SqliteException ex)
                {
                    if (failures++ == 0)
                    {
                        failed(ex);
                    }

                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static TimeSpan Backoff(TimeSpan interval, int failures) =>
        TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, interval.Ticks * (1L << Math.Min(failures, 20))));
}
