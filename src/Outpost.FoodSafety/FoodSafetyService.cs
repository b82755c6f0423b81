using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Outpost.FoodSafety;

/// <summary>The store said no in a way that trying again cannot change (a revoked token, a refused event).</summary>
public sealed class FoodSafetyStoppedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FoodSafetyStoppedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public FoodSafetyStoppedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public FoodSafetyStoppedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Food-safety monitoring at the store, as a service of its own: it reads the fridges' temperatures (the MQTT bridge's
/// <c>EquipmentReading</c> events) from its durable subscription, raises an alarm when a fridge has been outside the
/// safe range for too long and clears it when it is back, and records one HACCP reading per fridge per period; the
/// alarms and the records go to HQ with the store's events. Per reading, in this order: the events to publish are
/// worked out from the fridge's state, published (sparse, numbered by the reading's position and their rank, so a
/// second publish of the same is recorded once), then the fridge's state and the checkpoint are written together in
/// the service's own database; the store is told what is applied once a second. Killed anywhere, it starts again after
/// the last reading whose state it wrote: nothing missed, nothing recorded twice.
/// </summary>
public sealed class FoodSafetyService(FoodSafetyOptions options, TextWriter output, TimeProvider time)
{
    /// <summary>The producer id of the service's events.</summary>
    public const string Producer = "food-safety";

    private readonly FridgeRules _rules = new(options);
    private volatile bool _following;
    private long _applied;

    /// <summary>Whether the service holds its subscription's stream open now (what its readiness probe says).</summary>
    public bool Following => _following;

    /// <summary>The position of the last reading applied.</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>Why the service last lost the store, if it did.</summary>
    public string? LastError { get; private set; }

    /// <summary>Runs until cancelled, or until the store refuses it for good (<see cref="FoodSafetyStoppedException"/>).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var store = await FoodSafetyStore.OpenAsync(options.DataDirectory, cancellationToken);
        using var http = new HttpClient { BaseAddress = options.Store, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        var delay = TimeSpan.FromMilliseconds(500);
        var registered = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!registered)
                {
                    await SendAsync(http, HttpMethod.Put, $"api/contracts/{FridgeRules.HaccpTopic}/{FridgeRules.HaccpType}/1", FridgeRules.HaccpSchema, cancellationToken);
                    registered = true;
                }

                var checkpoint = await store.CheckpointAsync(cancellationToken);
                Interlocked.Exchange(ref _applied, checkpoint);
                output.WriteLine($"food-safety: following {options.Store} (subscription {options.Subscription}) after position {checkpoint}");
                await FollowAsync(http, store, checkpoint, () => delay = TimeSpan.FromMilliseconds(500), cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                _following = false;
                LastError = ex.Message;
                output.WriteLine($"food-safety: the store is not reachable ({ex.Message}); trying again in {delay.TotalSeconds:0.#} s");
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxRetryDelay.Ticks));
            }
        }
    }

    private async Task FollowAsync(HttpClient http, FoodSafetyStore store, long checkpoint, Action connected, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"api/subscriptions/{options.Subscription}/events?topics=equipment&types=EquipmentReading",
            HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureAsync(response, cancellationToken);
        connected();
        _following = true;

        // What is applied is acknowledged at the store once a second, not per reading: the service's own checkpoint
        // already says where it resumes, and the store's limit on one client's requests is for tills, not catch-ups.
        var applied = checkpoint;
        var acknowledged = checkpoint;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var acking = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                var through = Interlocked.Read(ref applied);
                if (through > acknowledged)
                {
                    await AcknowledgeAsync(http, through, stop.Token);
                    acknowledged = through;
                }
            }
        }, CancellationToken.None);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await foreach (var item in SseParser.Create(body).EnumerateAsync(cancellationToken))
            {
                if (acking.IsCompleted)
                {
                    await acking; // the acknowledgements failed: start over
                }

                if (item.EventType == "gone")
                {
                    throw new FoodSafetyStoppedException($"the store no longer holds readings this service has not applied ({item.Data}); its records have a gap there");
                }

                if (item.EventType != "EquipmentReading")
                {
                    continue; // heartbeats
                }

                using var envelope = JsonDocument.Parse(item.Data);
                var position = envelope.RootElement.GetProperty("position").GetInt64();
                if (position > checkpoint)
                {
                    await ApplyAsync(http, store, position, envelope.RootElement.GetProperty("payload"), cancellationToken);
                    checkpoint = position;
                    Interlocked.Exchange(ref _applied, position);
                }

                Interlocked.Exchange(ref applied, position);
            }
        }
        finally
        {
            _following = false;
            await stop.CancelAsync();
            await acking.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private Task AcknowledgeAsync(HttpClient http, long position, CancellationToken cancellationToken) =>
        SendAsync(http, HttpMethod.Post, $"api/subscriptions/{options.Subscription}/ack", string.Create(CultureInfo.InvariantCulture, $$"""{"position":{{position}}}"""), cancellationToken);

    private async Task ApplyAsync(HttpClient http, FoodSafetyStore store, long position, JsonElement recorded, CancellationToken cancellationToken)
    {
        if (Reading(recorded) is not { } reading)
        {
            await store.SaveAsync(null, null, position, cancellationToken); // not a temperature: nothing to do but move on
            return;
        }

        var (state, outputs) = _rules.Apply(await store.FridgeAsync(reading.Fridge, cancellationToken), reading);
        if (outputs.Count > 0)
        {
            var events = new JsonArray();
            for (var i = 0; i < outputs.Count; i++)
            {
                var o = outputs[i];
                events.Add(new JsonObject
                {
                    ["seq"] = position * 4 + i, // increasing, and the same again for the same reading
                    ["topic"] = o.Topic,
                    ["type"] = o.Type,
                    ["key"] = o.Key,
                    ["payload"] = o.Payload,
                });
            }

            var batch = new JsonObject { ["producer"] = Producer, ["sparse"] = true, ["events"] = events };
            await SendAsync(http, HttpMethod.Post, "api/events", batch.ToJsonString(), cancellationToken);
            foreach (var o in outputs.Where(o => o.Topic == FridgeRules.AlarmsTopic))
            {
                output.WriteLine($"food-safety: {o.Type} {o.Payload["message"]}");
            }
        }

        await store.SaveAsync(reading.Fridge, state, position, cancellationToken);
    }

    /// <summary>A fridge's temperature from a recorded equipment message, or null when it carries none.</summary>
    internal static FridgeReading? Reading(JsonElement recorded)
    {
        var device = recorded.GetProperty("device").GetString()!;
        var payload = recorded.GetProperty("payload");
        if (payload.ValueKind != JsonValueKind.Object || !payload.TryGetProperty("celsius", out var celsius) || celsius.ValueKind != JsonValueKind.Number)
        {
            return null;
        }

        var at = payload.TryGetProperty("at", out var measured) && measured.ValueKind == JsonValueKind.String && measured.TryGetDateTimeOffset(out var a)
            ? a
            : recorded.GetProperty("receivedAt").GetDateTimeOffset();
        return new FridgeReading(device, celsius.GetDecimal(), at);
    }

    private static async Task SendAsync(HttpClient http, HttpMethod method, string path, string json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, cancellationToken);
    }

    /// <summary>A 5xx or 429 is worth another try (an <see cref="HttpRequestException"/>); any other refusal stops the service.</summary>
    private static async Task EnsureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            throw new HttpRequestException($"{(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {text}");
        }

        throw new FoodSafetyStoppedException($"the store refused {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} with {(int)response.StatusCode}: {text}");
    }
}
