namespace Outpost.Core.Log;

/// <summary>
/// Wakes every waiter when the writer commits: waiters take the current task, check the head, then await
/// it, so a commit between the check and the await is never missed.
/// </summary>
internal sealed class CommitSignal
{
    private TaskCompletionSource _next = NewSource();

    public Task Next => Volatile.Read(ref _next).Task;

    public void Pulse() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
