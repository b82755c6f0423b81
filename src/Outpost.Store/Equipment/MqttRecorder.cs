using System.Buffers;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Packets;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Equipment;

namespace Outpost.Store.Equipment;

/// <summary>
/// Records MQTT messages in the log, a batch at a time (what arrived while the last batch was being written, in the
/// order it arrived), in one append: a reading or an alarm, a repeat of one recorded (nothing), or parked with the
/// reason. A repeat is recognised by the device plus its message id, among the ids recorded lately (recalled from the
/// log at start, so across restarts too) and earlier in the same batch.
/// </summary>
internal sealed class MqttRecorder(MqttBridgeOptions options, IEventLog log, string storeId, TimeProvider time)
{
    private readonly RecentIds _recent = new(Math.Max(1, options.RememberIds));
    private readonly Queue<string> _latestParked = new();
    private long _received, _recorded, _repeats, _withoutId, _parked;

    public long Received => Interlocked.Read(ref _received);

    public long Recorded => Interlocked.Read(ref _recorded);

    public long Repeats => Interlocked.Read(ref _repeats);

    public long WithoutId => Interlocked.Read(ref _withoutId);

    public long Parked => Interlocked.Read(ref _parked);

    /// <summary>The reasons of the latest parked messages, newest first.</summary>
    public IReadOnlyList<string> LatestParked
    {
        get
        {
            lock (_latestParked)
            {
                return [.. _latestParked.Reverse()];
            }
        }
    }

    /// <summary>What one message came to.</summary>
    internal enum Outcome
    {
        /// <summary>Recorded as a reading or an alarm.</summary>
        Recorded,

        /// <summary>A repeat of one recorded: nothing written.</summary>
        Repeat,

        /// <summary>Unreadable: recorded as <c>EquipmentMessageParked</c>.</summary>
        Parked,

        /// <summary>On no configured topic (a session kept from an older configuration): nothing written.</summary>
        Ignored,
    }

    /// <summary>Records a batch of messages in one append; what each came to, in order. Nothing is counted unless the append succeeds.</summary>
    public async Task<IReadOnlyList<Outcome>> RecordAsync(IReadOnlyList<MqttApplicationMessage> messages, CancellationToken cancellationToken)
    {
        var outcomes = new List<Outcome>(messages.Count);
        var events = new List<NewEvent>(messages.Count);
        var ids = new HashSet<(string Device, string Id)>();
        var parked = new List<string>();
        var withoutId = 0;
        var at = time.GetUtcNow();
        foreach (var message in messages)
        {
            var topic = message.Topic;
            var inbound = options.In.FirstOrDefault(x => MqttTopicFilterComparer.Compare(topic, x.Filter) == MqttTopicFilterCompareResult.IsMatch);
            if (inbound is null)
            {
                outcomes.Add(Outcome.Ignored);
                continue;
            }

            var device = Device(topic, inbound);
            var bytes = message.Payload.ToArray();
            if (Unreadable(bytes, out var payload) is { } reason)
            {
                var letter = new EquipmentMessageParkedV1(device, topic, reason, bytes.Length, Convert.ToBase64String(bytes, 0, Math.Min(bytes.Length, 256)), at);
                events.Add(Event(EquipmentEvents.Topic, EquipmentEvents.Parked, device, JsonSerializer.SerializeToUtf8Bytes(letter, EquipmentJsonContext.Default.EquipmentMessageParkedV1)));
                parked.Add($"{at:O} {topic}: {reason}");
                outcomes.Add(Outcome.Parked);
                continue;
            }

            var id = message.UserProperties?.FirstOrDefault(p => p.Name == "message-id")?.ReadValueAsString()
                ?? (payload.TryGetProperty("messageId", out var inPayload) && inPayload.ValueKind is JsonValueKind.String or JsonValueKind.Number ? inPayload.ToString() : null);
            if (id is not null && (_recent.Contains(device, id) || ids.Contains((device, id))))
            {
                outcomes.Add(Outcome.Repeat);
                continue;
            }

            var recorded = new EquipmentMessageV1(device, topic, id, at, payload);
            events.Add(Event(inbound.Alarm ? EquipmentEvents.AlarmsTopic : EquipmentEvents.Topic, inbound.Alarm ? EquipmentEvents.Alarm : EquipmentEvents.Reading, device,
                JsonSerializer.SerializeToUtf8Bytes(recorded, EquipmentJsonContext.Default.EquipmentMessageV1)));
            if (id is null)
            {
                withoutId++;
            }
            else
            {
                ids.Add((device, id));
            }

            outcomes.Add(Outcome.Recorded);
        }

        if (events.Count > 0)
        {
            await log.AppendBatchAsync(events, null, cancellationToken);
        }

        foreach (var (device, id) in ids)
        {
            _recent.Add(device, id);
        }

        Interlocked.Add(ref _received, messages.Count);
        Interlocked.Add(ref _recorded, outcomes.Count(o => o == Outcome.Recorded));
        Interlocked.Add(ref _repeats, outcomes.Count(o => o == Outcome.Repeat));
        Interlocked.Add(ref _parked, parked.Count);
        Interlocked.Add(ref _withoutId, withoutId);
        lock (_latestParked)
        {
            foreach (var reason in parked)
            {
                _latestParked.Enqueue(reason);
                if (_latestParked.Count > 20)
                {
                    _latestParked.Dequeue();
                }
            }
        }

        return outcomes;
    }

    /// <summary>The ids of the messages recorded in the log's latest positions, so a repeat after a restart is recognised.</summary>
    public async Task RecallAsync(CancellationToken cancellationToken)
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

    /// <summary>Why a payload cannot be recorded, or null (and the payload) when it can.</summary>
    private string? Unreadable(byte[] bytes, out JsonElement payload)
    {
        payload = default;
        if (bytes.Length > options.MaxPayloadBytes)
        {
            return $"{bytes.Length} bytes, more than the bridge's limit of {options.MaxPayloadBytes}";
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            payload = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return "not JSON: " + ex.Message;
        }

        return payload.ValueKind == JsonValueKind.Object ? null : $"a JSON object was expected, not {payload.ValueKind.ToString().ToLowerInvariant()}";
    }

    private NewEvent Event(string topic, string type, string device, byte[] payload) => new()
    {
        Topic = topic, Type = type, Key = device, Scope = Scope.Store(storeId), Payload = payload, CorrelationId = "mqtt:" + device,
    };

    private static string Device(string topic, MqttInbound inbound)
    {
        var levels = topic.Split('/');
        var level = inbound.DeviceLevel ?? Array.IndexOf(inbound.Filter.Split('/'), "+");
        return level >= 0 && level < levels.Length ? levels[level] : topic;
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
