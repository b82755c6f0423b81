namespace Outpost.Core.Threading;

/// <summary>A background service's loop: a piece of work every interval until the host stops.</summary>
public static class Periodic
{
    /// <summary>
    /// Runs <paramref name="work"/> every <paramref name="every"/> (on <paramref name="time"/>, first after one interval
    /// unless <paramref name="runFirst"/>) until <paramref name="stoppingToken"/> is cancelled. A failure goes to
    /// <paramref name="failed"/> (which logs it) and the next pass comes all the same: a database that is down for a
    /// while must not end the loop.
    /// </summary>
    public static async Task RunAsync(TimeSpan every, TimeProvider time, Func<CancellationToken, Task> work, Action<Exception> failed, CancellationToken stoppingToken, bool runFirst = false)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(failed);
        for (var pass = 0; !stoppingToken.IsCancellationRequested; pass++)
        {
            try
            {
                if (pass > 0 || !runFirst)
                {
                    await Task.Delay(every, time, stoppingToken);
                }

                await work(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failed(ex);
            }
        }
    }
}
