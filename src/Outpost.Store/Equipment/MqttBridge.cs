using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Equipment;

namespace Outpost.Store.Equipment;

/// <summary>What the bridge has done since the store started, and where it stands.</summary>
/// <param name="Enabled">Whether a broker is configured.</param>
/// <param name="Connected">Whether the bridge holds a session at the broker now.</param>
/// <param name="Broker">The broker.</param>
/// <param name="Received">Messages received from MQTT.</param>
/// <param name="Recorded">Messages recorded in the log.</param>
/// <param name="Repeats">Messages recognised as repeats of one recorded, by their id, and recorded no more.</param>
/// <param name="WithoutId">Messages recorded that carried no id (a repeat of one of them would be recorded again).</param>
/// <param name="Parked">Messages the bridge could not read, recorded as <c>EquipmentMessageParked</c> with the reason.</param>
/// <param name="ParkedInLog">Parked messages the log holds now, across restarts.</param>
/// <param name="Sent">Log events published to MQTT.</param>
/// <param name="SentThrough">The log position through which events have gone out (the broker acknowledged them).</param>
/// <param name="LatestParked">The reasons of the latest parked messages, newest first.</param>
/// <param name="LastError">The last reason the bridge lost or could not reach the broker, if any.</param>
public sealed record MqttBridgeStatus(bool Enabled, bool Connected, string? Broker, long Received, long Recorded, long Repeats, long WithoutId, long Parked,
    long ParkedInLog, long Sent, long SentThrough, IReadOnlyList<string> LatestParked, string? LastError);

/// <summary>
/// Bridges the store's MQTT broker and its log. In: the messages of the configured MQTT topics are recorded as
/// <c>EquipmentReading</c> or <c>EquipmentAlarm</c> events; the broker's QoS 1 delivery is acknowledged only once the
/// event is durable, so a crash before that has the broker deliver it again, and a repeat is recognised by the device's
/// message id (MQTT 5 user property <c>message-id</c>, or <c>messageId</c> in the JSON payload) and recorded once. A
/// payload that is not a JSON object, or too large, is recorded as <c>EquipmentMessageParked</c> with the reason and
/// acknowledged, so it never blocks the messages behind it. Out: the configured log events are published to MQTT at
/// QoS 1, with <c>message-id</c> <c>{store}:{position}</c> so a receiver can recognise a repeat, from a checkpoint moved
/// once the broker acknowledged them.
/// </summary>
public sealed partial class MqttBridge(MqttBridgeOptions options, IEventLog log, string storeId, TimeProvider time, ILogger<MqttBridge> logger) : BackgroundService
{
    /// <summary>The name of the bridge's meter.</summary>
    public const string MeterName = "Outpost.Mqtt";

    /// <summary>The checkpoint of what went out to MQTT.</summary>
    public const string OutCursor = "mqtt-out";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Messages = Meter.CreateCounter<long>("outpost.mqtt.messages", "{message}",
        "MQTT messages the bridge received, by outcome: recorded, repeat (recognised by its id, not recorded again), parked (unreadable, recorded with the reason).");
    private static readonly Counter<long> SentCounter = Meter.CreateCounter<long>("outpost.mqtt.sent", "{message}", "Log events the bridge published to MQTT.");

    private readonly RecentIds _recent = new(Math.Max(1, options.RememberIds));
    private readonly Queue<string> _latestParked = new();
    private long _received, _recorded, _repeats, _withoutId, _parked, _sent, _sentThrough;
    private volatile bool _connected;
    private volatile string? _lastError;

    /// <summary>Where the bridge stands.</summary>
    public async Task<MqttBridgeStatus> StatusAsync(CancellationToken cancellationToken)
    {
        var parkedInLog = await log.CountAsync(0, new ReadFilter { Topics = [EquipmentEvents.Topic], Types = [EquipmentEvents.Parked] }, cancellationToken);
        string[] latest;
        lock (_latestParked)
        {
            latest = [.. _latestParked.Reverse()];
        }

        return new MqttBridgeStatus(options.Broker is not null, _connected, options.Broker?.ToString(), Interlocked.Read(ref _received), Interlocked.Read(ref _recorded),
            Interlocked.Read(ref _repeats), Interlocked.Read(ref _withoutId), Interlocked.Read(ref _parked), parkedInLog, Interlocked.Read(ref _sent),
            Interlocked.Read(ref _sentThrough), latest, _lastError);
    }

    /// <summary>Checks the configuration; what is wrong, in words.</summary>
    /// <exception cref="InvalidOperationException">The configuration is not usable.</exception>
    public static void Validate(MqttBridgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Broker is { } broker && (broker.Scheme != "mqtt" || string.IsNullOrEmpty(broker.Host)))
        {
            throw new InvalidOperationException($"Mqtt:Broker is mqtt://host:port, not '{broker}'.");
        }

        foreach (var (inbound, i) in options.In.Select((x, i) => (x, i)))
        {
            var levels = inbound.Filter.Split('/');
            if (inbound.Filter.Length == 0 || levels.Take(levels.Length - 1).Contains("#") || levels.Any(l => l.Length > 1 && (l.Contains('+', StringComparison.Ordinal) || l.Contains('#', StringComparison.Ordinal))))
            {
                throw new InvalidOperationException($"Mqtt:In:{i}:Filter '{inbound.Filter}' is not an MQTT topic filter ('+' is a whole level, '#' the last one).");
            }

            if (inbound.DeviceLevel is < 0)
            {
                throw new InvalidOperationException($"Mqtt:In:{i}:DeviceLevel is a level of the topic, 0 or more.");
            }
        }

        foreach (var (outbound, i) in options.Out.Select((x, i) => (x, i)))
        {
            if (outbound.Topic.Length == 0 || outbound.MqttTopic.Length == 0 || outbound.MqttTopic.Contains('+', StringComparison.Ordinal) || outbound.MqttTopic.Contains('#', StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Mqtt:Out:{i} needs a log Topic and an MqttTopic without wildcards.");
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Broker is not { } broker)
        {
            return;
        }

        await RecallAsync(stoppingToken);
        using var client = new MqttClientFactory().CreateMqttClient();
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += e =>
        {
            _connected = false;
            lost.TrySetResult();
            return Task.CompletedTask;
        };
        client.ApplicationMessageReceivedAsync += e => ReceiveAsync(e, client, stoppingToken);
        var connect = new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.IsDefaultPort || broker.Port <= 0 ? 1883 : broker.Port)
            .WithClientId(options.ClientId ?? "outpost-" + storeId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(false) // the broker keeps the session, and what the bridge has not acknowledged, while it is away
            .WithSessionExpiryInterval(7 * 24 * 3600)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .Build();
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await client.ConnectAsync(connect, stoppingToken);
                var subscribe = new MqttClientSubscribeOptionsBuilder();
                foreach (var inbound in options.In)
                {
                    subscribe.WithTopicFilter(inbound.Filter, MqttQualityOfServiceLevel.AtLeastOnce);
                }

                if (options.In.Count > 0)
                {
                    await client.SubscribeAsync(subscribe.Build(), stoppingToken);
                }

                _connected = true;
                _lastError = null;
                delay = TimeSpan.FromSeconds(1);
                LogConnected(logger, broker);
                using var session = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                // With nothing to send out, the session lasts until the connection is lost.
                var sending = options.Out.Count > 0 ? SendAsync(client, session.Token) : Task.Delay(Timeout.Infinite, session.Token);
                await Task.WhenAny(lost.Task, sending);
                await session.CancelAsync();
                await sending.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                if (sending.Exception?.GetBaseException() is { } failed)
                {
                    throw failed;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or MqttBridgeException or InvalidOperationException or IOException)
            {
                _lastError = ex.Message;
                LogUnreachable(logger, broker, delay.TotalSeconds, ex.Message);
            }

            _connected = false;
            if (client.IsConnected)
            {
                await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None);
            }

            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
        }

        if (client.IsConnected)
        {
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None);
        }
    }

    private async Task ReceiveAsync(MqttApplicationMessageReceivedEventArgs e, IMqttClient client, CancellationToken stoppingToken)
    {
        // Acknowledged to the broker only once recorded: a crash before that, and the broker delivers it again.
        e.AutoAcknowledge = false;
        try
        {
            await RecordAsync(e.ApplicationMessage, stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not recorded (the log refused or failed): unacknowledged, it comes again once the session is new.
            _lastError = "could not record a message: " + ex.Message;
            LogNotRecorded(logger, e.ApplicationMessage.Topic, ex);
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None);
            return;
        }

        try
        {
            await e.AcknowledgeAsync(stoppingToken);
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException)
        {
            // Recorded, but the connection went before the acknowledgement: the broker delivers it again, and its id
            // makes it a repeat (a message without one is recorded twice: see the class's remarks).
        }
    }

    /// <summary>Records one MQTT message: as a reading or an alarm, as a repeat of one recorded (nothing), or parked.</summary>
    internal async Task RecordAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _received);
        var topic = message.Topic;
        var inbound = options.In.FirstOrDefault(x => MqttTopicFilterComparer.Compare(topic, x.Filter) == MqttTopicFilterCompareResult.IsMatch);
        if (inbound is null)
        {
            return; // a session kept from an older configuration: not ours to record
        }

        var device = Device(topic, inbound);
        var at = time.GetUtcNow();
        var bytes = message.Payload.ToArray();
        if (bytes.Length > options.MaxPayloadBytes)
        {
            await ParkAsync(device, topic, $"{bytes.Length} bytes, more than the bridge's limit of {options.MaxPayloadBytes}", bytes, at, cancellationToken);
            return;
        }

        JsonElement payload;
        try
        {
            using var document = JsonDocument.Parse(bytes);
            payload = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            await ParkAsync(device, topic, "not JSON: " + ex.Message, bytes, at, cancellationToken);
            return;
        }

        if (payload.ValueKind != JsonValueKind.Object)
        {
            await ParkAsync(device, topic, $"a JSON object was expected, not {payload.ValueKind.ToString().ToLowerInvariant()}", bytes, at, cancellationToken);
            return;
        }

        var id = message.UserProperties?.FirstOrDefault(p => p.Name == "message-id")?.ReadValueAsString()
            ?? (payload.TryGetProperty("messageId", out var inPayload) && inPayload.ValueKind is JsonValueKind.String or JsonValueKind.Number ? inPayload.ToString() : null);
        if (id is not null && _recent.Contains(device, id))
        {
            Interlocked.Increment(ref _repeats);
            Messages.Add(1, new KeyValuePair<string, object?>("outcome", "repeat"));
            return;
        }

        var recorded = new EquipmentMessageV1(device, topic, id, at, payload);
        await log.AppendAsync(new NewEvent
        {
            Topic = inbound.Alarm ? EquipmentEvents.AlarmsTopic : EquipmentEvents.Topic,
            Type = inbound.Alarm ? EquipmentEvents.Alarm : EquipmentEvents.Reading,
            Key = device,
            Scope = Scope.Store(storeId),
            Payload = JsonSerializer.SerializeToUtf8Bytes(recorded, EquipmentJsonContext.Default.EquipmentMessageV1),
            CorrelationId = "mqtt:" + device,
        }, cancellationToken);
        if (id is null)
        {
            Interlocked.Increment(ref _withoutId);
        }
        else
        {
            _recent.Add(device, id);
        }

        Interlocked.Increment(ref _recorded);
        Messages.Add(1, new KeyValuePair<string, object?>("outcome", "recorded"));
    }

    private async Task ParkAsync(string device, string topic, string reason, byte[] bytes, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var parked = new EquipmentMessageParkedV1(device, topic, reason, bytes.Length, Convert.ToBase64String(bytes, 0, Math.Min(bytes.Length, 256)), at);
        await log.AppendAsync(new NewEvent
        {
            Topic = EquipmentEvents.Topic,
            Type = EquipmentEvents.Parked,
            Key = device,
            Scope = Scope.Store(storeId),
            Payload = JsonSerializer.SerializeToUtf8Bytes(parked, EquipmentJsonContext.Default.EquipmentMessageParkedV1),
            CorrelationId = "mqtt:" + device,
        }, cancellationToken);
        Interlocked.Increment(ref _parked);
        Messages.Add(1, new KeyValuePair<string, object?>("outcome", "parked"));
        lock (_latestParked)
        {
            _latestParked.Enqueue($"{at:O} {topic}: {reason}");
            if (_latestParked.Count > 20)
            {
                _latestParked.Dequeue();
            }
        }

        LogParked(logger, topic, reason);
    }

    private static string Device(string topic, MqttInbound inbound)
    {
        var levels = topic.Split('/');
        var level = inbound.DeviceLevel ?? Array.IndexOf(inbound.Filter.Split('/'), "+");
        return level >= 0 && level < levels.Length ? levels[level] : topic;
    }

    /// <summary>The ids of the messages recorded in the log's latest positions, so a repeat after a restart is recognised.</summary>
    private async Task RecallAsync(CancellationToken cancellationToken)
    {
        var filter = new ReadFilter { Topics = [EquipmentEvents.Topic, EquipmentEvents.AlarmsTopic], Types = [EquipmentEvents.Reading, EquipmentEvents.Alarm] };
        var after = Math.Max(0, log.Head - options.RecallPositions);
        while (true)
        {
            var page = await log.ReadAsync(after, filter, 1000, cancellationToken);
            foreach (var e in page.Events)
            {
                if (e.Deserialize(EquipmentJsonContext.Default.EquipmentMessageV1) is { MessageId: { } id } m)
                {
                    _recent.Add(m.Device, id);
                }
            }

            if (page.Events.Count == 0)
            {
                return;
            }

            after = page.Events[^1].Seq;
        }
    }

    /// <summary>Publishes the configured log events to MQTT from the checkpoint, moving it as the broker acknowledges them.</summary>
    private async Task SendAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        var filter = new ReadFilter { Topics = [.. options.Out.Select(o => o.Topic).Distinct(StringComparer.Ordinal)] };
        var after = await log.GetCursorAsync(OutCursor, cancellationToken) ?? 0;
        Interlocked.Exchange(ref _sentThrough, after);
        while (!cancellationToken.IsCancellationRequested)
        {
            var removed = await log.GetRemovedThroughAsync(filter.Topics!, cancellationToken);
            if (removed > after)
            {
                LogSkipped(logger, after, removed);
                after = removed;
            }

            var page = await log.ReadAsync(after, filter, 100, cancellationToken);
            if (page.Events.Count == 0)
            {
                await log.WaitForAppendAsync(Math.Max(after, log.Head), cancellationToken);
                continue;
            }

            foreach (var e in page.Events)
            {
                if (options.Out.FirstOrDefault(o => o.Topic == e.Topic && (o.Type is null || o.Type == e.Type)) is { } outbound)
                {
                    var message = new MqttApplicationMessageBuilder()
                        .WithTopic(outbound.MqttTopic.Replace("{store}", storeId, StringComparison.Ordinal).Replace("{topic}", e.Topic, StringComparison.Ordinal)
                            .Replace("{type}", e.Type, StringComparison.Ordinal).Replace("{key}", e.Key, StringComparison.Ordinal))
                        .WithPayload(e.Payload.ToArray())
                        .WithContentType("application/json")
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                        .WithUserProperty("message-id", System.Text.Encoding.UTF8.GetBytes($"{storeId}:{e.Seq}"))
                        .WithUserProperty("type", System.Text.Encoding.UTF8.GetBytes($"{e.Type}.v{e.Version}"))
                        .Build();
                    var result = await client.PublishAsync(message, cancellationToken);
                    if (!result.IsSuccess && result.ReasonCode != MqttClientPublishReasonCode.NoMatchingSubscribers)
                    {
                        throw new MqttBridgeException($"the broker refused {message.Topic}: {result.ReasonCode} {result.ReasonString}");
                    }

                    Interlocked.Increment(ref _sent);
                    SentCounter.Add(1);
                }
            }

            after = page.Events[^1].Seq;
            await log.SetCursorAsync(OutCursor, CursorKind.Remote, after, cancellationToken);
            Interlocked.Exchange(ref _sentThrough, after);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT bridge connected to {Broker}")]
    private static partial void LogConnected(ILogger logger, Uri broker);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT bridge: {Broker} is not reachable; trying again in {Seconds} s: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, Uri broker, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "MQTT bridge: a message on {Topic} could not be recorded; the broker will deliver it again")]
    private static partial void LogNotRecorded(ILogger logger, string topic, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT bridge parked a message on {Topic}: {Reason}")]
    private static partial void LogParked(ILogger logger, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT bridge: retention removed positions {After} to {Removed} before they went out to MQTT; going on after them")]
    private static partial void LogSkipped(ILogger logger, long after, long removed);
}

/// <summary>The broker refused what the bridge sent.</summary>
public sealed class MqttBridgeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MqttBridgeException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public MqttBridgeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MqttBridgeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The message ids recorded lately, per device, the oldest forgotten first past a bound.</summary>
internal sealed class RecentIds(int capacity)
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public bool Contains(string device, string id)
    {
        lock (_ids)
        {
            return _ids.Contains(device + "\n" + id);
        }
    }

    public void Add(string device, string id)
    {
        var key = device + "\n" + id;
        lock (_ids)
        {
            if (_ids.Add(key))
            {
                _order.Enqueue(key);
                if (_order.Count > capacity)
                {
                    _ids.Remove(_order.Dequeue());
                }
            }
        }
    }
}
