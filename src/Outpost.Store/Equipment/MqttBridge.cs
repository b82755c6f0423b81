using System.Diagnostics.Metrics;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;
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

    private readonly MqttRecorder _recorder = new(options, log, storeId, time);
    private Channel<MqttApplicationMessageReceivedEventArgs>? _inbox; // the current session's; a new one per session
    private long _sent, _sentThrough;
    private volatile bool _connected;
    private volatile string? _lastError;

    /// <summary>Where the bridge stands.</summary>
    public async Task<MqttBridgeStatus> StatusAsync(CancellationToken cancellationToken)
    {
        var parkedInLog = await log.CountAsync(0, new ReadFilter { Topics = [EquipmentEvents.Topic], Types = [EquipmentEvents.Parked] }, cancellationToken);
        return new MqttBridgeStatus(options.Broker is not null, _connected, options.Broker?.ToString(), _recorder.Received, _recorder.Recorded,
            _recorder.Repeats, _recorder.WithoutId, _recorder.Parked, parkedInLog, Interlocked.Read(ref _sent),
            Interlocked.Read(ref _sentThrough), _recorder.LatestParked, _lastError);
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

        await _recorder.RecallAsync(stoppingToken);
        using var client = new MqttClientFactory().CreateMqttClient();
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += e =>
        {
            _connected = false;
            lost.TrySetResult();
            return Task.CompletedTask;
        };
        client.ApplicationMessageReceivedAsync += e =>
        {
            // Acknowledged to the broker only once recorded (RecordLoopAsync): a crash before that, and it comes again.
            e.AutoAcknowledge = false;
            _inbox?.Writer.TryWrite(e);
            return Task.CompletedTask;
        };
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
                var inbox = _inbox = Channel.CreateUnbounded<MqttApplicationMessageReceivedEventArgs>(new UnboundedChannelOptions { SingleReader = true });
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
                // The session lasts until the connection is lost, or recording or sending fails.
                var recording = RecordLoopAsync(inbox.Reader, session.Token);
                var sending = options.Out.Count > 0 ? SendAsync(client, session.Token) : Task.Delay(Timeout.Infinite, session.Token);
                await Task.WhenAny(lost.Task, recording, sending);
                await session.CancelAsync();
                foreach (var part in new[] { recording, sending })
                {
                    await part.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    if (part.Exception?.GetBaseException() is { } failed)
                    {
                        throw failed;
                    }
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

    /// <summary>
    /// Records what arrives, a batch at a time (what came while the last batch was being written), and acknowledges
    /// each message to the broker once its batch is durable. A batch the log cannot take ends the session: its messages,
    /// unacknowledged, come again in the next one.
    /// </summary>
    private async Task RecordLoopAsync(ChannelReader<MqttApplicationMessageReceivedEventArgs> inbox, CancellationToken cancellationToken)
    {
        var batch = new List<MqttApplicationMessageReceivedEventArgs>();
        while (await inbox.WaitToReadAsync(cancellationToken))
        {
            batch.Clear();
            while (batch.Count < 500 && inbox.TryRead(out var received))
            {
                batch.Add(received);
            }

            IReadOnlyList<MqttRecorder.Outcome> outcomes;
            try
            {
                outcomes = await _recorder.RecordAsync([.. batch.Select(b => b.ApplicationMessage)], cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogNotRecorded(logger, batch.Count, ex);
                throw new MqttBridgeException("could not record messages: " + ex.Message, ex);
            }

            for (var i = 0; i < batch.Count; i++)
            {
                if (outcomes[i] != MqttRecorder.Outcome.Ignored)
                {
                    Messages.Add(1, new KeyValuePair<string, object?>("outcome", outcomes[i].ToString().ToLowerInvariant()));
                }

                if (outcomes[i] == MqttRecorder.Outcome.Parked)
                {
                    LogParked(logger, batch[i].ApplicationMessage.Topic);
                }

                try
                {
                    await batch[i].AcknowledgeAsync(cancellationToken);
                }
                catch (MQTTnet.Exceptions.MqttCommunicationException)
                {
                    // Recorded, but the connection went before the acknowledgement: the broker delivers it again, and
                    // its id makes it a repeat (a message without one is recorded twice: see docs/services.md).
                }
            }
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

    [LoggerMessage(Level = LogLevel.Error, Message = "MQTT bridge: {Count} message(s) could not be recorded; the broker will deliver them again")]
    private static partial void LogNotRecorded(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT bridge parked an unreadable message on {Topic} (GET /api/equipment/bridge says why)")]
    private static partial void LogParked(ILogger logger, string topic);

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
