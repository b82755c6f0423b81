using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Outpost.Deploy.Tests;

/// <summary>
/// Simulated tills selling against a store server as real tills do: each sale opens a basket, scans, takes cash and
/// completes with an idempotency key; a request that fails (server stopping, restarting, killed) is retried with the
/// same key until the store answers. A sale is acknowledged when the till holds its receipt.
/// </summary>
public sealed class Tills(string storeUrl, IReadOnlyList<string> tokens, string gtin)
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);

    /// <summary>Idempotency key → sale id, for every receipt a till holds.</summary>
    public ConcurrentDictionary<string, string> Acknowledged { get; } = new(StringComparer.Ordinal);

    /// <summary>Idempotency keys a till gave up on without a receipt (the store kept refusing the sale): none, when all is well.</summary>
    public ConcurrentQueue<string> GaveUp { get; } = new();

    /// <summary>The longest time a till waited between a failed request and the store answering again.</summary>
    public TimeSpan LongestGap { get; private set; }

    /// <summary>How many requests failed and were retried.</summary>
    public int Retries => _retries;

    private int _retries;
    private int _throttled;

    /// <summary>How many requests the store's rate limit refused (429), each sent again after its Retry-After.</summary>
    public int Throttled => _throttled;
    private readonly object _gate = new();

    /// <summary>Sells until <paramref name="stop"/> is cancelled (each till then finishes the sale it is in), at most <paramref name="limit"/> in all.</summary>
    public Task RunAsync(TimeSpan limit, CancellationToken stop) =>
        Task.WhenAll(tokens.Select((token, i) => Task.Run(() => TillAsync(i, token, limit, stop))));

    private async Task TillAsync(int till, string token, TimeSpan limit, CancellationToken stop)
    {
        using var client = Fleet.Client(storeUrl, token);
        client.Timeout = TimeSpan.FromSeconds(5);
        var deadline = Stopwatch.StartNew();
        for (var sale = 0; !stop.IsCancellationRequested && deadline.Elapsed < limit; sale++)
        {
            var key = $"till-{till}:{sale}";
            var attempts = 0;
            while (!Acknowledged.ContainsKey(key))
            {
                if (deadline.Elapsed > limit + TimeSpan.FromSeconds(90) || ++attempts > 100)
                {
                    GaveUp.Enqueue(key);
                    break;
                }

                // A basket lost with the process (it was never completed) is simply started again with the same key.
                var basket = await SendAsync(client, c => c.PostAsJsonAsync("api/baskets", new { staffId = "test" }));
                var id = basket.GetProperty("id").GetString()!;
                if (await TrySendAsync(client, c => c.PostAsJsonAsync($"api/baskets/{id}/lines", new { code = gtin, quantity = 1 })) is null
                    || await TrySendAsync(client, c => c.PostAsJsonAsync($"api/baskets/{id}/payments", new { method = "cash", amount = 20 })) is null)
                {
                    continue;
                }

                if (await TrySendAsync(client, c => c.PostAsJsonAsync($"api/baskets/{id}/complete", new { idempotencyKey = key })) is { } receipt)
                {
                    Acknowledged[key] = receipt.GetProperty("sale").GetProperty("saleId").GetString()!;
                }
            }
        }
    }

    /// <summary>Sends until the store answers 2xx; retries on failure (network, 5xx), counting the gap.</summary>
    private async Task<JsonElement> SendAsync(HttpClient client, Func<HttpClient, Task<HttpResponseMessage>> send)
    {
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            if (await TrySendAsync(client, send) is { } body)
            {
                return body;
            }
        }

        throw new TimeoutException("the store did not answer a till for two minutes");
    }

    /// <summary>The body when the store answered 2xx; null after a 404 (basket gone) or a 409 (basket state changed).</summary>
    private async Task<JsonElement?> TrySendAsync(HttpClient client, Func<HttpClient, Task<HttpResponseMessage>> send)
    {
        long? failedAt = null;
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            try
            {
                using var response = await send(client);
                var text = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode >= 500)
                {
                    throw new HttpRequestException($"{(int)response.StatusCode} {text}");
                }

                Seen(failedAt);
                if (response.IsSuccessStatusCode)
                {
                    return JsonDocument.Parse(text).RootElement;
                }

                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest)
                {
                    return null;
                }

                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    // The store's rate limit per device (these tills sell far faster than a person can): nothing was done;
                    // a till waits as told and sends the same request again.
                    Interlocked.Increment(ref _throttled);
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                    continue;
                }

                throw new InvalidOperationException($"the store answered a till {(int)response.StatusCode}: {text}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                failedAt ??= Stopwatch.GetTimestamp();
                Interlocked.Increment(ref _retries);
                await Task.Delay(RetryPause);
            }
        }

        throw new TimeoutException("the store did not answer a till for two minutes");
    }

    private void Seen(long? failedAt)
    {
        if (failedAt is { } since)
        {
            var gap = Stopwatch.GetElapsedTime(since);
            lock (_gate)
            {
                if (gap > LongestGap)
                {
                    LongestGap = gap;
                }
            }
        }
    }
}
