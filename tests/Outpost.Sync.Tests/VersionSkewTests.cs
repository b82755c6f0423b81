using System.Net.Http.Json;
using Outpost.Central.Fleet;
using Outpost.Core.Consumers;
using Outpost.Core.Contracts;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Topics;

namespace Outpost.Sync.Tests;

/// <summary>A read model that knows version 1 of its event type only, as older software does during a rollout.</summary>
internal sealed class VersionOneOnly(string topic) : IEventConsumer
{
    public List<string> Read { get; } = [];

    public string Name => "v1-only-" + topic;

    public ReadFilter Filter { get; } = ReadFilter.ForTopics(topic);

    public ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        if (e.Version != 1)
        {
            throw new NotSupportedException($"{e.Type} v{e.Version} is newer than this software (it reads v1).");
        }

        // Not transactional: a page that failed and is retried event by event is seen again.
        if (!Read.Contains(e.Key))
        {
            Read.Add(e.Key);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Run against HQ on SQLite and on PostgreSQL: the same behaviour on both.</summary>
public abstract class VersionSkewTests
{
    /// <summary>A fresh HQ database: null for SQLite, or a PostgreSQL connection string.</summary>
    protected abstract Task<string?> HqDatabaseAsync();

    private async Task<Cluster> StartClusterAsync() => await Cluster.StartAsync(await HqDatabaseAsync());

    /// <summary>HQ on newer software than its stores: a newer version of a type, and a topic the stores have never heard of.</summary>
    private async Task<Cluster> StartNewerHqClusterAsync() => await Cluster.StartAsync(await HqDatabaseAsync(), configure: hq =>
    {
        hq.Topics = new TopicCatalog([.. Cluster.Topics.Declared, new TopicPolicy("promotions-v9", TopicDirection.Down, TopicPriority.Normal, RetentionPolicy.KeepForever)]);
        hq.Contracts = Cluster.Contracts.With([
            EventContract.FromSchema("prices", "PriceChanged", 3, Cluster.AnyObject),
            EventContract.FromSchema("promotions-v9", "SomethingNew", 1, Cluster.AnyObject),
        ]);
    });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly ConsumerOptions Fast = new() { RetryDelay = TimeSpan.Zero, MaxAttempts = 2 };

    [Fact]
    public async Task A_store_on_newer_software_syncs_to_an_older_hq_which_parks_what_it_cannot_read_and_keeps_going()
    {
        await using var cluster = await StartClusterAsync();
        var store = await cluster.StartStoreAsync("s1", "north");

        await store.Log.AppendAsync(Cluster.Sale("old-1"), Ct);
        await store.Log.AppendAsync(Cluster.Sale("new-1", version: 2), Ct);
        await store.Log.AppendAsync(Cluster.Sale("old-2"), Ct);
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count == 3, TimeSpan.FromSeconds(30)), "the link stalled on the newer event");

        var readModel = new VersionOneOnly("sales");
        var handled = await new ConsumerRunner(cluster.HqLog, readModel, Fast).CatchUpAsync(Ct);
        var all = await Cluster.ReadAllAsync(cluster.HqLog);
        Assert.True(readModel.Read.Count > 0, $"handled {handled}; hq head {cluster.HqLog.Head}; " + string.Join(" | ", all.Select(e => $"{e.Seq}:{e.Topic}:{e.Key}:{e.Origin.Node}")));

        Assert.Equal(["old-1", "old-2"], readModel.Read);
        var parked = Assert.Single(await cluster.HqLog.GetDeadLettersAsync(cancellationToken: Ct));
        Assert.Equal("SimulatedSale.v2", parked.Type);
        Assert.Contains("newer than this software", parked.Error, StringComparison.Ordinal);

        // The fleet view lists it, with the store it came from.
        var listed = await cluster.Admin.GetFromJsonAsync<ParkedEvents>("admin/parked", Ct);
        Assert.Equal(1, listed!.Total);
        var shown = Assert.Single(listed.Latest);
        Assert.Equal(("s1", "SimulatedSale.v2", readModel.Name), (shown.Origin, shown.Type, shown.Consumer));
    }

    [Fact]
    public async Task An_older_store_receives_a_newer_hq_event_parks_it_and_keeps_following_the_feed()
    {
        await using var cluster = await StartNewerHqClusterAsync();
        var store = await cluster.StartStoreAsync("s1", "north");

        await cluster.PublishAsync("prices", "a", "*", """{"price":"1.00"}""");
        await cluster.PublishAsync("prices", "b", "*", """{"price":"2.00","unitPrice":{"per":"kg"}}""", version: 3);
        await cluster.PublishAsync("prices", "c", "*", """{"price":"3.00"}""");
        await cluster.PublishAsync("promotions-v9", "x", "*", "{}", type: "SomethingNew");
        var last = await cluster.PublishAsync("prices", "d", "*", """{"price":"4.00"}""");
        Assert.True(await Cluster.EventuallyAsync(async () => await store.Log.GetCursorAsync("down:hq", Ct) >= last, TimeSpan.FromSeconds(30)), "the feed stalled");

        var readModel = new VersionOneOnly("prices");
        await new ConsumerRunner(store.Log, readModel, Fast).CatchUpAsync(Ct);

        Assert.Equal(["a", "c", "d"], readModel.Read);
        Assert.Equal("PriceChanged.v3", Assert.Single(await store.Log.GetDeadLettersAsync(cancellationToken: Ct)).Type);
    }
}

public sealed class VersionSkewTestsOnSqlite : VersionSkewTests
{
    protected override Task<string?> HqDatabaseAsync() => Task.FromResult<string?>(null);
}

public sealed class VersionSkewTestsOnPostgres(Outpost.Testing.PostgresServer server) : VersionSkewTests
{
    protected override async Task<string?> HqDatabaseAsync() => await server.CreateDatabaseAsync(TestContext.Current.CancellationToken);
}
