using Outpost.Core.Threading;

namespace Outpost.Core.Tests.Threading;

public sealed class KeyedLockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task One_key_is_held_by_one_caller_at_a_time_and_other_keys_are_free()
    {
        var locks = new KeyedLock();
        var held = await locks.AcquireAsync("basket-1", Ct);

        var same = locks.AcquireAsync("basket-1", Ct).AsTask();
        using (await locks.AcquireAsync("basket-2", Ct))
        {
            Assert.False(same.IsCompleted);
        }

        await Task.Delay(50, Ct);
        Assert.False(same.IsCompleted);
        held.Dispose();
        held.Dispose(); // a second release of the same hold does nothing
        using (await same.WaitAsync(TimeSpan.FromSeconds(10), Ct))
        {
            Assert.Equal(1, locks.Count);
        }

        Assert.Equal(0, locks.Count);
    }

    [Fact]
    public async Task Many_callers_on_one_key_never_overlap_and_no_key_is_kept_afterwards()
    {
        var locks = new KeyedLock();
        var inside = new int[4];
        var overlaps = 0;
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            using var held = await locks.AcquireAsync("k" + (i % 4), Ct);
            if (Interlocked.Increment(ref inside[i % 4]) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            await Task.Yield();
            Interlocked.Decrement(ref inside[i % 4]);
        }, Ct)));

        Assert.Equal(0, overlaps);
        Assert.Equal(0, locks.Count);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_key_to_its_holder_and_forgets_it_afterwards()
    {
        var locks = new KeyedLock();
        var held = await locks.AcquireAsync("k", Ct);
        using var cancel = new CancellationTokenSource();
        var waiting = locks.AcquireAsync("k", cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(1, locks.Count);
        held.Dispose();
        Assert.Equal(0, locks.Count);
        using (await locks.AcquireAsync("k", Ct))
        {
            Assert.Equal(1, locks.Count);
        }
    }
}
