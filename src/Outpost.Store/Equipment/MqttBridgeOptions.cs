namespace Outpost.Store.Equipment;

/// <summary>
/// The store's MQTT bridge (configuration section <c>Mqtt</c>): which MQTT topics of the store's broker come into the
/// log, and which log events go out to MQTT. Off while <see cref="Broker"/> is not set. docs/equipment.md.
/// </summary>
public sealed class MqttBridgeOptions
{
    /// <summary>The store's MQTT broker, <c>mqtt://host:port</c> (1883 when no port is given); null turns the bridge off.</summary>
    public Uri? Broker { get; set; }

    /// <summary>The bridge's MQTT client id, the key of its session at the broker (default <c>outpost-{store id}</c>).</summary>
    public string? ClientId { get; set; }

    /// <summary>MQTT topics recorded in the log, first match wins.</summary>
    public IList<MqttInbound> In { get; } = [];

    /// <summary>Log events published to MQTT, first match wins.</summary>
    public IList<MqttOutbound> Out { get; } = [];

    /// <summary>The largest payload recorded; a larger one is parked.</summary>
    public int MaxPayloadBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// How far back, in log positions, the bridge looks at its start for the message ids it has recorded (a repeat of
    /// a message recorded further back than this before a restart is recorded again).
    /// </summary>
    public int RecallPositions { get; set; } = 100_000;

    /// <summary>How many message ids the bridge remembers while it runs.</summary>
    public int RememberIds { get; set; } = 100_000;

    /// <summary>The longest wait between two attempts to reach the broker.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>MQTT topics that come into the log.</summary>
public sealed class MqttInbound
{
    /// <summary>An MQTT topic filter (<c>+</c> one level, <c>#</c> the rest), for example <c>kitchen/+/temperature</c>.</summary>
    public string Filter { get; set; } = "";

    /// <summary>Alarms (topic <c>equipment.alarms</c>) rather than readings (topic <c>equipment</c>).</summary>
    public bool Alarm { get; set; }

    /// <summary>Which level of the topic names the device, from 0; by default the filter's first <c>+</c> (the whole topic when it has none).</summary>
    public int? DeviceLevel { get; set; }
}

/// <summary>Log events that go out to MQTT.</summary>
public sealed class MqttOutbound
{
    /// <summary>The log topic.</summary>
    public string Topic { get; set; } = "";

    /// <summary>The event type, or null for every type of the topic.</summary>
    public string? Type { get; set; }

    /// <summary>The MQTT topic, where <c>{store}</c>, <c>{topic}</c>, <c>{type}</c> and <c>{key}</c> are replaced; for example <c>esl/{store}/availability/{key}</c>.</summary>
    public string MqttTopic { get; set; } = "";
}
