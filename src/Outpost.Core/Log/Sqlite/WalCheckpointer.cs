using Microsoft.Data.Sqlite;

namespace Outpost.Core.Log.Sqlite;

/// <summary>
/// Copies a SQLite file's write-ahead log into the file in the background, on a connection of its own, every
/// <c>interval</c> when anything was committed since the last pass. PASSIVE: it never blocks readers or the writer.
/// The file's own connections set <c>wal_autocheckpoint = 0</c>, so no commit pays for a checkpoint (and its
/// fsyncs) because it happened to cross the WAL's size threshold. Frequent checkpoints also let the writer restart
/// the WAL from its beginning, so commits overwrite blocks the file already has instead of growing it (a growing
/// file makes every fsync flush its size too).
/// </summary>
public sealed class WalCheckpointer : IAsyncDisposable
{
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _loop;

    /// <param name="open">Opens a connection to the file (the checkpointer closes it).</param>
    /// <param name="version">A number that changes whenever something was committed (a log's head, a count of saves).</param>
    /// <param name="interval">How often to look.</param>
    /// <param name="failed">Told when a checkpoint fails; the loop then stops (the file's connections still work).</param>
    public WalCheckpointer(Func<SqliteConnection> open, Func<long> version, TimeSpan interval, Action<SqliteException> failed)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(failed);
        _loop = Task.Run(() => RunAsync(open, version, interval, failed));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        await _loop;
        _closing.Dispose();
    }

    private async Task RunAsync(Func<SqliteConnection> open, Func<long> version, TimeSpan interval, Action<SqliteException> failed)
    {
        try
        {
            await using var connection = open();
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            var done = long.MinValue; // the first pass copies whatever an earlier run left in the WAL
            while (!_closing.IsCancellationRequested)
            {
                // A timer, not a wake-up per commit: single commits should not pay for a second thread.
                await Task.Delay(interval, _closing.Token);
                var now = version();
                if (now == done)
                {
                    continue;
                }

                done = now;
                await checkpoint.ExecuteNonQueryAsync(_closing.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SqliteException ex)
        {
            failed(ex);
        }
    }
}
