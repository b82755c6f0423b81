namespace Outpost.Core.Log;

/// <summary>
/// Wakes every waiter when something moves (the log's writer commits, HQ's down feed finds new events): waiters take
/// the current task, check the position, then await it, so a pulse between the check and the await is never missed.
/// </summary>
public sealed class CommitSignal
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>Completes at the next <see cref="Pulse"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Wakes every waiter.</summary>
    public void Pulse() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    /// <summary>Completes once <paramref name="head"/> reads past <paramref name="afterSeq"/>; <paramref name="check"/> may throw to stop waiting on a broken log.</summary>
    public async ValueTask WaitPastAsync(Func<long> head, long afterSeq, Action? check, CancellationToken cancellationToken)
    {
        while (true)
        {
            var next = Next;
            if (head() > afterSeq)
            {
                return;
            }

            check?.Invoke();
            await next.WaitAsync(cancellationToken);
        }
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
