using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;

namespace Outpost.Cli.Bench;

/// <summary>
/// <c>outpost bench services</c>: the store's event API and MQTT bridge, each beside the limit measured in the same run.
/// Publishing through the API (one service, batches and single events) beside appending the same events to a log in
/// this process; delivery from a publish to a subscriber's stream; MQTT messages recorded by the bridge per second
/// beside the same messages through the same broker to a client that only acknowledges them.
/// </summary>
internal sealed class ServicesBenchmark(TextWriter output, string directory, int events, int messages)
{
    private const string AdminToken = "bench-admin";
    private const int Batch = 100;
    private const string Mosquitto = "/usr/sbin/mosquitto";

    public async Task<ServicesBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        output.WriteLine($"outpost bench services: {events:N0} events published through the API, {messages:N0} MQTT messages through the bridge");
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        var broker = File.Exists(Mosquitto) ? await BrokerProcess.StartAsync(directory, cancellationToken) : null;
        try
        {
            var address = new Uri($"http://127.0.0.1:{OutpostProcess.FreePort()}/");
            var environment = new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" };
            if (broker is not null)
            {
                environment["OUTPOST_STORE_Mqtt__Broker"] = $"mqtt://127.0.0.1:{broker.Port}";
                environment["OUTPOST_STORE_Mqtt__In__0__Filter"] = "bench/+/temperature";
            }

            // The store server in its own process, as in a store; the service is this process.
            await using var store = OutpostProcess.Start(["store", "--id", "bench-store", "--data", Path.Combine(directory, "store"), "--urls", address.ToString().TrimEnd('/'),
                "--admin-token", AdminToken], environment, directory);
            using var admin = Client(address, AdminToken);
            await store.WaitUntilReadyAsync(admin, cancellationToken);
            using var enrolment = await admin.PostAsync("/api/services", Json("""{"name":"bench","publish":["bench"],"read":["bench"]}"""), cancellationToken);
            enrolment.EnsureSuccessStatusCode();
            var token = (await enrolment.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("token").GetString()!;
            using var service = Client(address, token);
            (await service.PutAsync("/api/contracts/bench/Measured/1", Json("""{"type":"object","properties":{"n":{"type":"integer"},"text":{"type":"string"}},"required":["n"]}"""),
                cancellationToken)).EnsureSuccessStatusCode();

            // Warm-up, untimed: JIT and pools on both sides.
            var seq = 0L;
            for (var i = 0; i < 20; i++)
            {
                seq = await PublishAsync(service, seq, Batch, cancellationToken);
            }

            // Throughput: batches of 100 from one producer, one request at a time, beside the same batches appended here.
            var watch = Stopwatch.StartNew();
            for (var published = 0; published < events; published += Batch)
            {
                seq = await PublishAsync(service, seq, Batch, cancellationToken);
            }

            var apiRate = events / watch.Elapsed.TotalSeconds;
            var (appendRate, appendSingle) = await InProcessAsync(cancellationToken);
            output.WriteLine($"  publish, batches of {Batch}         {apiRate,10:N0} events/s   in-process append {appendRate,10:N0} events/s   ratio {apiRate / appendRate:F2}");

            // Latency: single events, one at a time.
            var single = new List<double>();
            for (var i = 0; i < 1000; i++)
            {
                watch.Restart();
                seq = await PublishAsync(service, seq, 1, cancellationToken);
                single.Add(watch.Elapsed.TotalMilliseconds);
            }

            var publishLatency = Percentiles.Of(single);
            output.WriteLine($"  publish, one event                {publishLatency}   in-process append {appendSingle}   p99 ratio {publishLatency.P99 / appendSingle.P99:F2}");

            var delivery = await DeliveryAsync(service, seq, cancellationToken);
            output.WriteLine($"  publish -> subscriber (SSE)       {delivery.Latency}   (from the publish's request to the event on the stream, 1,000 events 10 ms apart)");

            double? mqttRate = null, mqttLimit = null;
            if (broker is not null)
            {
                (mqttRate, mqttLimit) = await MqttAsync(admin, broker.Port, cancellationToken);
                output.WriteLine($"  MQTT -> log (bridge)              {mqttRate,10:N0} msgs/s     broker to an acknowledging client {mqttLimit,10:N0} msgs/s   ratio {mqttRate / mqttLimit:F2}");
            }
            else
            {
                output.WriteLine($"  MQTT -> log: not measured: {Mosquitto} is missing (apt-get install -y mosquitto)");
            }

            return new ServicesBenchResult
            {
                Events = events,
                PublishEventsPerSecond = apiRate,
                InProcessEventsPerSecond = appendRate,
                PublishRatio = apiRate / appendRate,
                PublishP50Ms = publishLatency.P50,
                PublishP99Ms = publishLatency.P99,
                InProcessAppendP50Ms = appendSingle.P50,
                InProcessAppendP99Ms = appendSingle.P99,
                DeliveryP50Ms = delivery.Latency.P50,
                DeliveryP99Ms = delivery.Latency.P99,
                MqttMessages = broker is null ? 0 : messages,
                MqttIntoLogPerSecond = mqttRate,
                MqttBrokerLimitPerSecond = mqttLimit,
            };
        }
        finally
        {
            if (broker is not null)
            {
                await broker.DisposeAsync();
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    public void Cleanup() => LogBenchmark.DeleteFolder(directory);

    /// <summary>Publishes <paramref name="count"/> events after <paramref name="seq"/>; the producer's last sequence.</summary>
    internal static async Task<long> PublishAsync(HttpClient service, long seq, int count, CancellationToken cancellationToken)
    {
        var body = new StringBuilder("""{"producer":"bench","events":[""");
        for (var i = 1; i <= count; i++)
        {
            body.Append(i == 1 ? "" : ",").Append($$$"""{"seq":{{{seq + i}}},"topic":"bench","type":"Measured","key":"k{{{(seq + i) % 1000}}}","payload":{"n":{{{seq + i}}},"text":"a reading of about a hundred bytes, as a sensor or a scale would send it"}}""");
        }

        using var response = await service.PostAsync("/api/events", Json(body.Append("]}").ToString()), cancellationToken);
        response.EnsureSuccessStatusCode();
        return seq + count;
    }

    /// <summary>The limit: the same events appended to a log in this process, in the same batches, then singly.</summary>
    private async Task<(double Rate, Percentiles Single)> InProcessAsync(CancellationToken cancellationToken)
    {
        await using var log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(directory, "limit.db"), NodeId = "bench-limit" });
        NewEvent Event(long n) => new()
        {
            Topic = "bench", Type = "Measured", Key = "k" + (n % 1000),
            Payload = Encoding.UTF8.GetBytes($$"""{"n":{{n}},"text":"a reading of about a hundred bytes, as a sensor or a scale would send it"}"""),
        };
        var watch = Stopwatch.StartNew();
        for (var n = 0L; n < events; n += Batch)
        {
            await log.AppendBatchAsync([.. Enumerable.Range(0, Batch).Select(i => Event(n + i))], null, cancellationToken);
        }

        var rate = events / watch.Elapsed.TotalSeconds;
        var single = new List<double>();
        for (var i = 0; i < 1000; i++)
        {
            watch.Restart();
            await log.AppendAsync(Event(i), cancellationToken);
            single.Add(watch.Elapsed.TotalMilliseconds);
        }

        return (rate, Percentiles.Of(single));
    }

    /// <summary>From a publish's request to the event on a subscriber's stream, for events 10 ms apart.</summary>
    private static async Task<(Percentiles Latency, long Seq)> DeliveryAsync(HttpClient service, long seq, CancellationToken cancellationToken)
    {
        const int Count = 1000;
        using var response = await service.GetAsync("/api/subscriptions/bench-delivery/events?from=latest", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var sent = new long[Count + 1];
        var latencies = new List<double>(Count);
        var reading = Task.Run(async () =>
        {
            await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(body).EnumerateAsync(cancellationToken))
            {
                if (item.EventType != "Measured")
                {
                    continue;
                }

                var n = JsonDocument.Parse(item.Data).RootElement.GetProperty("payload").GetProperty("n").GetInt64() - seq;
                if (n is >= 1 and <= Count)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(Volatile.Read(ref sent[n])).TotalMilliseconds);
                    if (latencies.Count == Count)
                    {
                        return;
                    }
                }
            }
        }, cancellationToken);
        await Task.Delay(200, cancellationToken); // the stream is open at the store
        for (var i = 1; i <= Count; i++)
        {
            Volatile.Write(ref sent[i], Stopwatch.GetTimestamp());
            await PublishAsync(service, seq + i - 1, 1, cancellationToken);
            await Task.Delay(10, cancellationToken);
        }

        await reading.WaitAsync(TimeSpan.FromMinutes(1), cancellationToken);
        return (Percentiles.Of(latencies), seq + Count);
    }

    /// <summary>MQTT messages the bridge recorded per second, beside the broker's rate to a client that only acknowledges.</summary>
    private async Task<(double Rate, double Limit)> MqttAsync(HttpClient admin, int port, CancellationToken cancellationToken)
    {
        using var device = new MqttClientFactory().CreateMqttClient();
        await device.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("bench-device").WithProtocolVersion(MqttProtocolVersion.V500).Build(), cancellationToken);

        // The limit first: the same messages, through the same broker, to a client that records nothing.
        using var listener = new MqttClientFactory().CreateMqttClient();
        var received = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.ApplicationMessageReceivedAsync += _ =>
        {
            if (Interlocked.Increment(ref received) == messages)
            {
                all.TrySetResult();
            }

            return Task.CompletedTask;
        };
        await listener.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("bench-listener").WithProtocolVersion(MqttProtocolVersion.V500).Build(), cancellationToken);
        await listener.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("limit/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);
        var watch = Stopwatch.StartNew();
        await SendAsync(device, "limit", cancellationToken);
        await all.Task.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken);
        var limit = messages / watch.Elapsed.TotalSeconds;

        var before = await RecordedAsync(admin, cancellationToken);
        watch.Restart();
        await SendAsync(device, "bench", cancellationToken);
        var until = Stopwatch.StartNew();
        while (await RecordedAsync(admin, cancellationToken) < before + messages)
        {
            if (until.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException($"the bridge recorded {await RecordedAsync(admin, cancellationToken) - before} of {messages} messages in 10 minutes");
            }

            await Task.Delay(20, cancellationToken);
        }

        return (messages / watch.Elapsed.TotalSeconds, limit);
    }

    /// <summary>The messages, QoS 1, 100 in flight at a time, as a busy kitchen's sensors would.</summary>
    private async Task SendAsync(IMqttClient device, string prefix, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(100);
        var sends = new List<Task>(messages);
        for (var i = 0; i < messages; i++)
        {
            await gate.WaitAsync(cancellationToken);
            var message = new MqttApplicationMessageBuilder().WithTopic($"{prefix}/fridge-{i % 20}/temperature")
                .WithPayload($$"""{"celsius":{{3 + (i % 30) / 10.0}},"messageId":"{{prefix}}-{{i}}"}""").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            sends.Add(Task.Run(async () =>
            {
                try
                {
                    await device.PublishAsync(message, cancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }, cancellationToken));
        }

        await Task.WhenAll(sends);
    }

    private static async Task<long> RecordedAsync(HttpClient admin, CancellationToken cancellationToken) =>
        (await admin.GetFromJsonAsync<JsonElement>("/api/equipment/bridge", cancellationToken)).GetProperty("recorded").GetInt64();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static HttpClient Client(Uri address, string token)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Debian's mosquitto on a free loopback port, for the run.</summary>
    private sealed class BrokerProcess(Process process, int port) : IAsyncDisposable
    {
        public int Port { get; } = port;

        public static async Task<BrokerProcess> StartAsync(string directory, CancellationToken cancellationToken)
        {
            var port = OutpostProcess.FreePort();
            var config = Path.Combine(directory, "mosquitto.conf");
            await File.WriteAllTextAsync(config, $"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 100\n", cancellationToken);
            var process = Process.Start(new ProcessStartInfo(Mosquitto, ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            for (var i = 0; i < 100; i++)
            {
                try
                {
                    using var probe = new System.Net.Sockets.TcpClient();
                    await probe.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken);
                    return new BrokerProcess(process, port);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    await Task.Delay(100, cancellationToken);
                }
            }

            process.Kill();
            process.Dispose();
            throw new InvalidOperationException($"mosquitto did not accept connections on 127.0.0.1:{port} within 10 s");
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
            }

            process.Dispose();
        }
    }
}

/// <summary>What <c>outpost bench services</c> measured.</summary>
internal sealed record ServicesBenchResult
{
    public required int Events { get; init; }

    public required double PublishEventsPerSecond { get; init; }

    public required double InProcessEventsPerSecond { get; init; }

    public required double PublishRatio { get; init; }

    public required double PublishP50Ms { get; init; }

    public required double PublishP99Ms { get; init; }

    public required double InProcessAppendP50Ms { get; init; }

    public required double InProcessAppendP99Ms { get; init; }

    public required double DeliveryP50Ms { get; init; }

    public required double DeliveryP99Ms { get; init; }

    public required int MqttMessages { get; init; }

    public required double? MqttIntoLogPerSecond { get; init; }

    public required double? MqttBrokerLimitPerSecond { get; init; }
}
