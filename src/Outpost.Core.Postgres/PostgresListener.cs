using Npgsql;

namespace Outpost.Core.Postgres;

/// <summary>
/// Listens on a PostgreSQL notification channel for as long as it runs, connecting again (100 ms, doubling, at most
/// 5 s apart) whenever the connection fails. A notification is lost while the connection is down, so each
/// (re)connection is reported once the <c>LISTEN</c> is in place, for the caller to catch up on what it may have
/// missed; a quiet stretch can be reported too.
/// </summary>
public static class PostgresListener
{
    /// <summary>Runs until <paramref name="closing"/> is cancelled.</summary>
    /// <param name="open">Opens a connection to listen on.</param>
    /// <param name="channel">The channel (a plain identifier).</param>
    /// <param name="notified">Each notification's payload.</param>
    /// <param name="listening">Called once each connection listens.</param>
    /// <param name="quiet">Called after each <paramref name="quietAfter"/> with no notification, when given.</param>
    /// <param name="quietAfter">How long a quiet stretch is.</param>
    /// <param name="failed">Called when the connection fails, with how long until the next attempt.</param>
    /// <param name="closing">Stops listening.</param>
    public static async Task RunAsync(Func<CancellationToken, ValueTask<NpgsqlConnection>> open, string channel, Action<string> notified,
        Func<NpgsqlConnection, CancellationToken, Task> listening, Func<NpgsqlConnection, CancellationToken, Task>? quiet, TimeSpan quietAfter,
        Action<Exception, TimeSpan> failed, CancellationToken closing)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(listening);
        ArgumentNullException.ThrowIfNull(failed);
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!closing.IsCancellationRequested)
        {
            try
            {
                await using var connection = await open(closing);
                connection.Notification += (_, args) => notified(args.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(closing);
                }

                await listening(connection, closing);
                backoff = TimeSpan.FromMilliseconds(100);
                while (!closing.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(quietAfter, closing) && quiet is not null)
                    {
                        await quiet(connection, closing);
                    }
                }
            }
            catch (OperationCanceledException) when (closing.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                failed(ex, backoff);
                try
                {
                    await Task.Delay(backoff, closing);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }
    }
}
