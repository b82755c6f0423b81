using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Equipment;
using Outpost.Retail.Inventory;
using Outpost.Store.Equipment;
using Outpost.Testing;

namespace Outpost.Store.Tests;

/// <summary>In-store equipment over a real mosquitto broker: the store's MQTT bridge records, recognises repeats, parks, sends out.</summary>
public sealed class MqttBridgeTests : IAsyncLifetime
{
    private Mosquitto _broker = null!;
    private StoreServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _broker = await Mosquitto.StartAsync();
        _server = await StartStoreAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAndDeleteAsync();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Equipment_messages_are_recorded_once_by_their_id_unreadable_ones_parked_and_the_bridge_keeps_going()
    {
        await ConnectedAsync();
        using var device = await DeviceAsync("fryer-vendor");
        await PublishAsync(device, "kitchen/fridge-1/temperature", """{"celsius":3.5,"messageId":"a1"}""");
        await PublishAsync(device, "kitchen/fridge-1/temperature", """{"celsius":3.5,"messageId":"a1"}"""); // the device did not hear the broker's ack
        await PublishAsync(device, "kitchen/fridge-1/temperature", """{"celsius":4.0}""", id: "p7");
        await PublishAsync(device, "kitchen/fridge-1/temperature", """{"celsius":4.0}""", id: "p7");
        await PublishAsync(device, "kitchen/fridge-2/temperature", """{"celsius":5}""");
        await PublishAsync(device, "kitchen/fridge-2/temperature", """{"celsius":5}"""); // no id: cannot be told from a new reading
        await PublishAsync(device, "kitchen/fridge-2/temperature", "celsius=5");
        await PublishAsync(device, "kitchen/fridge-2/temperature", "[5]");
        await PublishAsync(device, "kitchen/fridge-1/alarm", """{"code":"door-open","messageId":"al-1"}""");
        await PublishAsync(device, "kitchen/fridge-1/temperature", """{"celsius":3.9,"messageId":"a2"}""");

        var status = await StatusWhenAsync(s => s.Received == 10);
        Assert.Equal((6L, 2L, 2L, 2L, 2L), (status.Recorded, status.Repeats, status.WithoutId, status.Parked, status.ParkedInLog));
        Assert.Contains(status.LatestParked, r => r.Contains("kitchen/fridge-2/temperature: not JSON", StringComparison.Ordinal));
        Assert.Contains(status.LatestParked, r => r.Contains("a JSON object was expected, not array", StringComparison.Ordinal));

        var readings = await EventsAsync(EquipmentEvents.Topic, EquipmentEvents.Reading);
        Assert.Equal(["fridge-1", "fridge-1", "fridge-2", "fridge-2", "fridge-1"], readings.Select(e => e.Key));
        var first = readings[0].Deserialize(EquipmentJsonContext.Default.EquipmentMessageV1);
        Assert.Equal(("fridge-1", "kitchen/fridge-1/temperature", "a1", 3.5m), (first.Device, first.MqttTopic, first.MessageId, first.Payload.GetProperty("celsius").GetDecimal()));
        Assert.Equal("p7", readings[1].Deserialize(EquipmentJsonContext.Default.EquipmentMessageV1).MessageId);
        Assert.Null(readings[2].Deserialize(EquipmentJsonContext.Default.EquipmentMessageV1).MessageId);
        Assert.All(readings, e => Assert.Equal("store:s-042", e.Scope.ToString()));

        var alarm = Assert.Single(await EventsAsync(EquipmentEvents.AlarmsTopic, EquipmentEvents.Alarm));
        Assert.Equal("door-open", alarm.Deserialize(EquipmentJsonContext.Default.EquipmentMessageV1).Payload.GetProperty("code").GetString());
        var parked = (await EventsAsync(EquipmentEvents.Topic, EquipmentEvents.Parked)).Select(e => e.Deserialize(EquipmentJsonContext.Default.EquipmentMessageParkedV1)).ToList();
        Assert.Equal("celsius=5", Encoding.UTF8.GetString(Convert.FromBase64String(parked[0].Preview)));
        Assert.Equal(9, parked[0].Bytes);

        // Only the back office sees the bridge.
        var (till, _, _) = await _server.DeviceAsync("till");
        Assert.Equal(HttpStatusCode.Forbidden, (await till.GetAsync("/api/equipment/bridge", Ct)).StatusCode);
    }

    [Fact]
    public async Task What_the_devices_send_while_the_store_is_down_arrives_after_it_and_a_repeat_across_the_restart_is_recognised()
    {
        await ConnectedAsync();
        using var device = await DeviceAsync("fridge-probe");
        await PublishAsync(device, "kitchen/fridge-3/temperature", """{"celsius":2.0,"messageId":"r1"}""");
        await StatusWhenAsync(s => s.Recorded == 1);

        var directory = _server.Directory;
        await _server.DisposeAsync();
        await PublishAsync(device, "kitchen/fridge-3/temperature", """{"celsius":6.5,"messageId":"r2"}"""); // kept by the broker for the bridge's session
        await PublishAsync(device, "kitchen/fridge-3/temperature", """{"celsius":2.0,"messageId":"r1"}""");
        _server = await StartStoreAsync(directory);

        var status = await StatusWhenAsync(s => s.Received == 2);
        Assert.Equal((1L, 1L), (status.Recorded, status.Repeats));
        var readings = (await EventsAsync(EquipmentEvents.Topic, EquipmentEvents.Reading)).Select(e => e.Deserialize(EquipmentJsonContext.Default.EquipmentMessageV1).MessageId);
        Assert.Equal(["r1", "r2"], readings);
    }

    [Fact]
    public async Task Out_of_stock_goes_out_to_the_shelf_labels_once_with_its_position_as_message_id()
    {
        using var labels = await DeviceAsync("esl-vendor");
        var received = new ConcurrentQueue<(string Topic, string Id, string Payload)>();
        labels.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue((e.ApplicationMessage.Topic, e.ApplicationMessage.UserProperties.Single(p => p.Name == "message-id").ReadValueAsString(),
                Encoding.UTF8.GetString(e.ApplicationMessage.Payload)));
            return Task.CompletedTask;
        };
        await labels.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("esl/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), Ct);
        await ConnectedAsync();

        var first = await MarkAsync(StoreServer.Cola, available: false);
        Assert.True(await UntilAsync(() => received.Count == 1), "the out-of-stock did not reach the shelf labels' topic within 30 s");
        var (topic, id, payload) = received.Single();
        Assert.Equal(($"esl/s-042/availability/{StoreServer.Cola}", $"s-042:{first}"), (topic, id));
        Assert.False(JsonDocument.Parse(payload).RootElement.GetProperty("available").GetBoolean());

        // Restarted, the bridge goes on from its checkpoint: the next one goes out, the first not again.
        var directory = _server.Directory;
        await _server.DisposeAsync();
        _server = await StartStoreAsync(directory);
        var second = await MarkAsync(StoreServer.Cola, available: true);
        Assert.True(await UntilAsync(() => received.Count >= 2), "the back-in-stock did not go out within 30 s of the restart");
        Assert.Equal([$"s-042:{first}", $"s-042:{second}"], received.Select(r => r.Id));
        Assert.Equal(second, (await StatusWhenAsync(s => s.SentThrough >= second)).SentThrough);
    }

    private Task<StoreServer> StartStoreAsync(string? directory = null) => StoreServer.StartAsync(directory: directory, configure: o =>
    {
        o.Mqtt.Broker = _broker.Uri;
        o.Mqtt.MaxReconnectDelay = TimeSpan.FromSeconds(2);
        o.Mqtt.In.Add(new MqttInbound { Filter = "kitchen/+/temperature" });
        o.Mqtt.In.Add(new MqttInbound { Filter = "kitchen/+/alarm", Alarm = true });
        o.Mqtt.Out.Add(new MqttOutbound { Topic = InventoryEvents.StockTopic, Type = InventoryEvents.AvailabilityMarked, MqttTopic = "esl/{store}/availability/{key}" });
    });

    private async Task<long> MarkAsync(string gtin, bool available)
    {
        var appended = await _server.Log.AppendAsync(new NewEvent
        {
            Topic = InventoryEvents.StockTopic, Type = InventoryEvents.AvailabilityMarked, Key = gtin, Scope = Scope.Store("s-042"),
            Payload = JsonSerializer.SerializeToUtf8Bytes(new AvailabilityMarkedV1("product", gtin, available, "back office"), InventoryJsonContext.Default.AvailabilityMarkedV1),
        }, Ct);
        return appended.Seq;
    }

    private async Task<IMqttClient> DeviceAsync(string clientId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _broker.Port).WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500).Build(), Ct);
        return client;
    }

    private static async Task PublishAsync(IMqttClient device, string topic, string payload, string? id = null)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (id is not null)
        {
            message.WithUserProperty("message-id", Encoding.UTF8.GetBytes(id));
        }

        var result = await device.PublishAsync(message.Build(), Ct);
        Assert.True(result.IsSuccess || result.ReasonCode == MqttClientPublishReasonCode.NoMatchingSubscribers, $"the broker refused the device's message: {result.ReasonCode}");
    }

    private async Task ConnectedAsync() => await StatusWhenAsync(s => s.Connected);

    private async Task<MqttBridgeStatus> StatusWhenAsync(Func<MqttBridgeStatus, bool> condition)
    {
        using var admin = _server.Client();
        MqttBridgeStatus? status = null;
        for (var i = 0; i < 300; i++)
        {
            status = await admin.GetFromJsonAsync<MqttBridgeStatus>("/api/equipment/bridge", Ct);
            if (condition(status!))
            {
                return status!;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"the bridge did not get there within 30 s: {JsonSerializer.Serialize(status)}");
        return status!;
    }

    /// <summary>Whether the condition held within 30 s.</summary>
    private static async Task<bool> UntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 300 && !condition(); i++)
        {
            await Task.Delay(100, Ct);
        }

        return condition();
    }

    private async Task<List<StoredEvent>> EventsAsync(string topic, string type) =>
        [.. (await _server.Log.ReadAsync(0, ReadFilter.ForTopics(topic), 1000, Ct)).Events.Where(e => e.Type == type)];
}
