using Microsoft.Extensions.Time.Testing;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Store.Devices;

namespace Outpost.Store.Tests;

public sealed class DeviceHeartbeatTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-heartbeats-" + Guid.NewGuid().ToString("N"));
    private SqliteEventLog _log = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(_directory, "store.db"), NodeId = "store-0042", Topics = Retail.RetailTopics.Catalog });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _log.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_device_s_heartbeat_goes_up_once_a_minute_in_its_store_s_scope_even_after_the_store_s_clock_jumps_back()
    {
        var clock = new WallClockOff(new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero)));
        var devices = await DeviceRegistry.OpenAsync(_log, clock, Ct);

        await devices.HeartbeatAsync("till-1", "till", "pages/2", Ct);
        clock.Inner.Advance(TimeSpan.FromSeconds(20));
        await devices.HeartbeatAsync("till-1", "till", "pages/2", Ct); // within the minute: not sent again

        // The store's clock is set back two hours; a minute later the till's next heartbeat goes up all the same.
        clock.Offset = TimeSpan.FromHours(-2);
        clock.Inner.Advance(TimeSpan.FromSeconds(41));
        await devices.HeartbeatAsync("till-1", "till", "pages/2", Ct);
        await devices.HeartbeatAsync("till-1", "till", "pages/3", Ct); // a new app version goes up at once

        var beats = new List<StoredEvent>();
        await foreach (var e in _log.EnumerateAsync(ReadFilter.ForTopics(Outpost.Retail.Telemetry.TelemetryEvents.Topic), cancellationToken: Ct))
        {
            beats.Add(e);
        }

        Assert.Equal(3, beats.Count);
        Assert.All(beats, e => Assert.Equal(Scope.Store("store-0042"), e.Scope));
        Assert.Contains("pages/3", System.Text.Encoding.UTF8.GetString(beats[^1].Payload.Span), StringComparison.Ordinal);
    }
}
