using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Outpost.Central;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Retail.Alarms;
using Outpost.Retail.Equipment;
using Outpost.Sync.Hosting;
using Outpost.Testing;

namespace Outpost.Sync.Tests;

/// <summary>
/// The food-safety service as its own process (<c>outpost food-safety</c>) beside a real store server, which takes the
/// fridges' temperatures from a real mosquitto: killed with SIGKILL while it catches up and started again, it misses
/// no reading and records no alarm and no HACCP record twice; the alarms and records reach HQ.
/// </summary>
public sealed class FoodSafetyServiceTests
{
    private static readonly DateTimeOffset Hour = new(2026, 12, 8, 10, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killed_mid_stream_and_restarted_the_service_misses_nothing_records_nothing_twice_and_its_alarms_reach_the_back_office_and_HQ()
    {
        await using var broker = await Mosquitto.StartAsync();
        await using var cluster = await Cluster.StartAsync(topics: RetailTopics.Catalog, configure: hq => hq.Contracts = CentralOptions.DefaultContracts);
        var store = await cluster.StartStoreAsync("s1", "north", configure: o =>
        {
            o.Topics = RetailTopics.Catalog;
            o.Mqtt.Broker = broker.Uri;
            o.Mqtt.In.Add(new Outpost.Store.Equipment.MqttInbound { Filter = "kitchen/+/temperature" });
        });
        var address = store.App.Address();
        using var admin = Client(address, StoreNode.AdminToken);
        using var enrolment = await admin.PostAsync("api/services", new StringContent(
            """{"name":"food safety","publish":["alarms","haccp"],"read":["equipment"]}""", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, enrolment.StatusCode);
        var token = (await enrolment.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString()!;
        using var service = Client(address, token);
        var data = Path.Combine(cluster.Directory, "food-safety");
        var health = new Uri($"http://127.0.0.1:{ChildProcess.FreePort()}/");
        string[] args = ["food-safety", "--store", address.ToString(), "--data", data, "--min", "0", "--max", "5", "--alarm-after", "00:15:00", "--haccp-every", "01:00:00",
            "--health-urls", health.ToString().TrimEnd('/')];
        var environment = new Dictionary<string, string> { ["OUTPOST_FOOD_SAFETY_TOKEN"] = token };

        using var device = new MqttClientFactory().CreateMqttClient();
        await device.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port).WithClientId("fridge-probes")
            .WithProtocolVersion(MqttProtocolVersion.V500).Build(), Ct);

        // Two hours of a reading a minute from three fridges. a: always 3 °C. b: 8 °C from minute 30 to 59, so the alarm
        // at minute 45, cleared at 60. c: 7 °C for ten minutes (50-59), no alarm; then from minute 100 on, alarm at 115.
        var kills = new List<(long Acknowledged, long Of)>();
        var started = new List<ChildProcess>();
        ChildProcess Start()
        {
            var process = ChildProcess.Start(environment, args);
            started.Add(process);
            return process;
        }

        var food = Start();
        try
        {
            await SendAsync(device, 0, 40);
            var chunk1 = await ReadingsThroughAsync(store, 120);
            await AcknowledgedAsync(service, chunk1, food);
            food.Kill();

            await SendAsync(device, 40, 80); // while it is down
            var chunk2 = await ReadingsThroughAsync(store, 240);
            for (var round = 0; round < 2; round++)
            {
                food = Start();
                await AppliedAsync(data, chunk1 + 1, food);
                food.Kill(); // while it catches up
                kills.Add((await AppliedAsync(data, 0, food), chunk2));
            }

            food = Start();
            await SendAsync(device, 80, 120);
            var last = await ReadingsThroughAsync(store, 360);
            await AcknowledgedAsync(service, last, food);

            // Its readiness probe says it follows the store, and how far.
            using var probe = new HttpClient { BaseAddress = health, Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal($"ready: applied through {last}", await probe.GetStringAsync("health/ready", Ct));
        }
        finally
        {
            started.ForEach(p => p.Dispose());
        }

        // Exactly what one uninterrupted pass records, once each.
        var alarms = await EventsAsync(store.Log, AlarmEvents.Topic);
        Assert.Equal(["AlarmRaised food-safety:fridge-b", "AlarmCleared food-safety:fridge-b", "AlarmRaised food-safety:fridge-c"],
            alarms.Select(e => $"{e.Type} {e.Key}"));
        var raised = JsonSerializer.Deserialize(alarms[0].Payload.Span, AlarmJsonContext.Default.AlarmRaisedV1)!;
        Assert.Equal((Hour.AddMinutes(30), "critical"), (raised.Since, raised.Severity));
        Assert.Contains("fridge-b at 8.0 °C, outside 0–5 °C for 15 min", raised.Message, StringComparison.Ordinal);
        var haccp = await EventsAsync(store.Log, "haccp");
        Assert.Equal(6, haccp.Count);
        Assert.Equal(6, haccp.Select(e => (e.Key, JsonDocument.Parse(e.Payload).RootElement.GetProperty("at").GetDateTimeOffset().Hour)).Distinct().Count());
        Assert.True(kills.Any(k => k.Acknowledged < k.Of), "no SIGKILL landed while the service was catching up: " + string.Join("; ", kills));

        // The back office shows the open alarm; HQ holds the alarms and the records, once each, and shows the open one.
        var open = await admin.GetFromJsonAsync<JsonElement>("api/alarms", Ct);
        Assert.Equal("fridge-c", Assert.Single(open.EnumerateArray()).GetProperty("subject").GetString());
        Assert.True(await Cluster.EventuallyAsync(async () => (await cluster.HqEventsFromAsync("s1")).Count(e => e.Topic is "alarms" or "haccp") == 9, TimeSpan.FromSeconds(30)),
            $"HQ holds {(await cluster.HqEventsFromAsync("s1")).Count(e => e.Topic is "alarms" or "haccp")} of the store's 9 alarm and HACCP events");
        var atHq = await cluster.Admin.GetFromJsonAsync<JsonElement>("admin/alarms", Ct);
        var hqAlarm = Assert.Single(atHq.EnumerateArray());
        Assert.Equal(("s1", "fridge-c"), (hqAlarm.GetProperty("store").GetString(), hqAlarm.GetProperty("subject").GetString()));
    }

    private static async Task SendAsync(IMqttClient device, int fromMinute, int toMinute)
    {
        for (var minute = fromMinute; minute < toMinute; minute++)
        {
            foreach (var fridge in new[] { "a", "b", "c" })
            {
                var celsius = fridge switch
                {
                    "b" when minute is >= 30 and < 60 => 8.0m,
                    "c" when minute is >= 50 and < 60 or >= 100 => 7.0m,
                    _ => 3.0m,
                };
                var payload = JsonSerializer.Serialize(new { celsius, at = Hour.AddMinutes(minute), messageId = $"{fridge}-{minute}" });
                var result = await device.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"kitchen/fridge-{fridge}/temperature").WithPayload(payload)
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), Ct);
                Assert.True(result.IsSuccess, $"the broker refused a reading: {result.ReasonCode}");
            }
        }
    }

    /// <summary>Waits until the store holds this many readings; the position of the last.</summary>
    private static async Task<long> ReadingsThroughAsync(StoreNode store, int count)
    {
        List<Outpost.Core.Events.StoredEvent> readings = [];
        for (var i = 0; i < 300 && readings.Count < count; i++)
        {
            readings = await EventsAsync(store.Log, EquipmentEvents.Topic);
            if (readings.Count < count)
            {
                await Task.Delay(100, Ct);
            }
        }

        Assert.True(readings.Count == count, $"the store holds {readings.Count} of {count} readings after 30 s");
        return readings[^1].Seq;
    }

    /// <summary>Waits until the service's own checkpoint (its database, read beside it) is at least this position; where it is.</summary>
    private static async Task<long> AppliedAsync(string data, long position, ChildProcess food)
    {
        var applied = 0L;
        for (var i = 0; i < 6000; i++)
        {
            if (File.Exists(Path.Combine(data, "food-safety.db")))
            {
                await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data, "food-safety.db")};Mode=ReadOnly;Pooling=False");
                await connection.OpenAsync(Ct);
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT position FROM checkpoint WHERE id = 1";
                try
                {
                    applied = await command.ExecuteScalarAsync(Ct) is long p ? p : 0;
                }
                catch (Microsoft.Data.Sqlite.SqliteException)
                {
                    // the table is not there yet, or the writer holds it a moment
                }
            }

            if (applied >= position)
            {
                return applied;
            }

            Assert.False(food.HasExited, "the food-safety service exited: " + string.Join(" | ", food.Lines));
            await Task.Delay(10, Ct);
        }

        Assert.Fail($"the service applied through {applied}, not {position}, within 60 s: " + string.Join(" | ", food.Lines));
        return applied;
    }

    /// <summary>Waits until the service acknowledged at least this position; what it acknowledged.</summary>
    private static async Task<long> AcknowledgedAsync(HttpClient service, long position, ChildProcess food)
    {
        var acknowledged = 0L;
        for (var i = 0; i < 600 && acknowledged < position; i++)
        {
            Assert.False(food.HasExited, "the food-safety service exited: " + string.Join(" | ", food.Lines));
            acknowledged = (await service.GetFromJsonAsync<JsonElement>("api/subscriptions/food-safety", Ct)).GetProperty("acknowledged").GetInt64();
            if (acknowledged < position)
            {
                await Task.Delay(100, Ct);
            }
        }

        Assert.True(acknowledged >= position, $"the service acknowledged {acknowledged}, not {position}, within 60 s: " + string.Join(" | ", food.Lines));
        return acknowledged;
    }

    private static async Task<List<Outpost.Core.Events.StoredEvent>> EventsAsync(IEventLog log, string topic) =>
        [.. (await log.ReadAsync(0, ReadFilter.ForTopics(topic), 10_000, Ct)).Events.Where(e => e.Type != EquipmentEvents.Parked)];

    private static HttpClient Client(Uri address, string token)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
