using Outpost.Core.Consumers;

namespace Outpost.Core.Tests.Consumers;

public sealed class ReadCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_value_is_read_once_and_kept_until_the_read_model_changes()
    {
        var cache = new ReadCache<string, string?>();
        var reads = 0;
        Task<string?> Read(string key, CancellationToken ct) => Task.FromResult<string?>(key + ++reads);

        Assert.Equal("a1", await cache.GetOrReadAsync("a", Read, Ct));
        Assert.Equal("a1", await cache.GetOrReadAsync("a", Read, Ct));
        cache.Invalidate();

        Assert.Equal("a2", await cache.GetOrReadAsync("a", Read, Ct));
        Assert.Equal(2, reads);
    }

    [Fact]
    public async Task A_read_that_a_commit_overtook_is_not_kept()
    {
        // The read starts before the change commits and returns the old value after the invalidation: keeping it
        // would serve the old value until the next change.
        var cache = new ReadCache<string, string>();
        var reading = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var slow = cache.GetOrReadAsync("price", async (_, _) =>
        {
            reading.SetResult();
            await release.Task;
            return "old";
        }, Ct).AsTask();
        await reading.Task;
        cache.Invalidate();
        release.SetResult();

        Assert.Equal("old", await slow);
        Assert.Equal(0, cache.Count);
        Assert.Equal("new", await cache.GetOrReadAsync("price", (_, _) => Task.FromResult("new"), Ct));
    }

    [Fact]
    public async Task Past_its_capacity_it_reads_through_without_keeping()
    {
        var cache = new ReadCache<int, int>(capacity: 2);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(i * 10, await cache.GetOrReadAsync(i, (k, _) => Task.FromResult(k * 10), Ct));
        }

        Assert.Equal(2, cache.Count);
    }
}
