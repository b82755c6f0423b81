using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Core.Log;
using Outpost.Store;
using Outpost.Sync.Hosting;

namespace Outpost.Sync.Tests;

public sealed class HealthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_whose_log_met_a_damaged_record_stays_ready_for_its_tills_and_says_so()
    {
        var directory = Path.Combine(Path.GetTempPath(), "outpost-health-tests", Guid.NewGuid().ToString("N"));
        var options = new StoreOptions { StoreId = "s1", DataDirectory = directory, Urls = "http://127.0.0.1:0", Topics = Cluster.Topics };
        var app = StoreHost.Build(options);
        await app.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = app.Address() };
        var log = app.Services.GetRequiredService<IEventLog>();
        for (var i = 0; i < 20; i++)
        {
            await log.AppendAsync(Cluster.Sale($"MARK{i:D4}"), Ct);
        }

        var healthy = await http.GetAsync("health/ready", Ct);
        await app.StopAsync(Ct);
        await app.DisposeAsync();

        // Flip a bit of one sale's key in the file, then start the store again and read.
        var path = Path.Combine(directory, "store.db");
        await Outpost.Testing.BitRot.FlipMarkerAsync(path, "MARK0007", Ct);
        app = StoreHost.Build(options);
        await app.StartAsync(Ct);
        using var again = new HttpClient { BaseAddress = app.Address() };
        log = app.Services.GetRequiredService<IEventLog>();
        await Assert.ThrowsAsync<LogCorruptionException>(async () => await log.ReadAsync(0, ReadFilter.All, 100, Ct));

        using var damaged = await again.GetAsync("health/ready", Ct);
        var body = await damaged.Content.ReadAsStringAsync(Ct);
        await app.StopAsync(Ct);
        await app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);

        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        // Every reader steps over it and it is reported: taking the store off its Service would only stop its tills.
        Assert.Equal(HttpStatusCode.OK, damaged.StatusCode);
        Assert.Contains("1 damaged record(s)", body, StringComparison.Ordinal);
        Assert.Contains("outpost log verify", body, StringComparison.Ordinal);
    }
}
