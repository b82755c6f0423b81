using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Outpost.Cli.Bench;

/// <summary>
/// For <c>outpost bench store --lagging-service N</c>: a service at the store N events behind, reading its subscription
/// as fast as the store sends it and never acknowledging, while the tills work: the worst a slow service can do to the
/// store. Its events are on a topic of its own, published through the event API before the phase.
/// </summary>
internal sealed class LaggingService(HttpClient service) : IDisposable
{
    private CancellationTokenSource? _stop;
    private Task<long>? _reading;

    /// <summary>Enrols the service and publishes <paramref name="events"/> events through the API, in batches of 100.</summary>
    public static async Task<LaggingService> FillAsync(HttpClient admin, int events, TextWriter output, CancellationToken cancellationToken)
    {
        using var enrolment = await admin.PostAsync("/api/services", Json("""{"name":"lagging","publish":["bench"],"read":["bench"]}"""), cancellationToken);
        enrolment.EnsureSuccessStatusCode();
        var token = (await enrolment.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("token").GetString()!;
        var service = new HttpClient { BaseAddress = admin.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        service.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        (await service.PutAsync("/api/contracts/bench/Measured/1", Json("""{"type":"object","properties":{"n":{"type":"integer"},"text":{"type":"string"}},"required":["n"]}"""),
            cancellationToken)).EnsureSuccessStatusCode();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var seq = 0L; seq < events;)
        {
            seq = await ServicesBenchmark.PublishAsync(service, seq, (int)Math.Min(100, events - seq), cancellationToken);
        }

        output.WriteLine($"  a service's {events:N0} events published through the API in {watch.Elapsed.TotalSeconds:F0} s; its subscription is that far behind");
        return new LaggingService(service);
    }

    /// <summary>Opens the subscription from its first event and reads as fast as the store sends.</summary>
    public void Start()
    {
        _stop = new CancellationTokenSource();
        var token = _stop.Token;
        _reading = Task.Run(async () =>
        {
            var read = 0L;
            try
            {
                using var response = await service.GetAsync("/api/subscriptions/lagging/events", HttpCompletionOption.ResponseHeadersRead, token);
                response.EnsureSuccessStatusCode();
                await using var body = await response.Content.ReadAsStreamAsync(token);
                await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(body).EnumerateAsync(token))
                {
                    read += item.EventType == "Measured" ? 1 : 0;
                }
            }
            catch (OperationCanceledException)
            {
            }

            return read;
        }, CancellationToken.None);
    }

    /// <summary>Stops reading; how many events it read.</summary>
    public async Task<long> StopAsync()
    {
        await _stop!.CancelAsync();
        return await _reading!;
    }

    public void Dispose()
    {
        _stop?.Dispose();
        service.Dispose();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
