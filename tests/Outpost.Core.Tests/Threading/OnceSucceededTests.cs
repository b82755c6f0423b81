using Outpost.Core.Threading;

namespace Outpost.Core.Tests.Threading;

public sealed class OnceSucceededTests
{
    [Fact]
    public async Task A_failed_initialisation_is_tried_again_by_the_next_caller_and_a_success_is_kept()
    {
        var attempts = 0;
        var once = new OnceSucceeded(_ => ++attempts == 1 ? Task.FromException(new IOException("database restarting")) : Task.CompletedTask);

        var first = await Assert.ThrowsAsync<IOException>(() => once.EnsureAsync(TestContext.Current.CancellationToken));
        Assert.Equal("database restarting", first.Message);

        await once.EnsureAsync(TestContext.Current.CancellationToken);
        await once.EnsureAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task Callers_that_arrive_together_share_one_attempt_and_a_cancelled_wait_does_not_cancel_it()
    {
        var attempts = 0;
        var release = new TaskCompletionSource();
        var once = new OnceSucceeded(_ =>
        {
            Interlocked.Increment(ref attempts);
            return release.Task;
        });
        using var impatient = new CancellationTokenSource();
        var waits = Enumerable.Range(0, 5).Select(_ => once.EnsureAsync(TestContext.Current.CancellationToken)).ToList();
        var cancelled = once.EnsureAsync(impatient.Token);
        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        release.SetResult();
        await Task.WhenAll(waits);
        Assert.Equal(1, attempts);
    }
}
