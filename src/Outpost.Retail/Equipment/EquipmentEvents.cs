using System.Text.Json;
using System.Text.Json.Serialization;

namespace Outpost.Retail.Equipment;

/// <summary>
/// What in-store equipment (fryers, fridges, scales, sensors) says over MQTT, as the store's MQTT bridge records it:
/// readings on <see cref="Topic"/>, alarms on <see cref="AlarmsTopic"/>, both sent up to HQ under byte budgets.
/// </summary>
public static class EquipmentEvents
{
    /// <summary>Equipment readings, and the messages the bridge could not read (parked).</summary>
    public const string Topic = "equipment";

    /// <summary>Equipment alarms.</summary>
    public const string AlarmsTopic = "equipment.alarms";

    /// <summary>A reading (<see cref="EquipmentMessageV1"/>).</summary>
    public const string Reading = "EquipmentReading";

    /// <summary>An alarm (<see cref="EquipmentMessageV1"/>).</summary>
    public const string Alarm = "EquipmentAlarm";

    /// <summary>A message the bridge could not read, with the reason (<see cref="EquipmentMessageParkedV1"/>).</summary>
    public const string Parked = "EquipmentMessageParked";
}

/// <summary>Version 1 of a message from a piece of equipment, as received from the store's MQTT broker.</summary>
/// <param name="Device">The device, named by its MQTT topic (the level the bridge's mapping points at).</param>
/// <param name="MqttTopic">The MQTT topic it was published on.</param>
/// <param name="MessageId">The device's id for the message (MQTT 5 user property <c>message-id</c>, or <c>messageId</c> in the payload); null when it sent none, and then a repeat cannot be recognised.</param>
/// <param name="ReceivedAt">When the bridge received it.</param>
/// <param name="Payload">The device's JSON, as it sent it.</param>
public sealed record EquipmentMessageV1(string Device, string MqttTopic, string? MessageId, DateTimeOffset ReceivedAt, JsonElement Payload);

/// <summary>Version 1 of a message the bridge could not read: kept with the reason instead, never blocking the ones after it.</summary>
/// <param name="Device">The device, named by its MQTT topic.</param>
/// <param name="MqttTopic">The MQTT topic it was published on.</param>
/// <param name="Reason">Why it could not be read.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Preview">Its first bytes (at most 256), Base64.</param>
/// <param name="ReceivedAt">When the bridge received it.</param>
public sealed record EquipmentMessageParkedV1(string Device, string MqttTopic, string Reason, int Bytes, string Preview, DateTimeOffset ReceivedAt);

/// <summary>Source-generated JSON for the equipment events.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EquipmentMessageV1))]
[JsonSerializable(typeof(EquipmentMessageParkedV1))]
public sealed partial class EquipmentJsonContext : JsonSerializerContext;
