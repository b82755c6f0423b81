using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Store;
using Outpost.Sync.Agent;
using Outpost.Sync.Faults;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Simulation;

/// <summary>
/// One store of the simulation: a real store server in this process (its own SQLite log, replication agent and
/// checkout), its link to HQ through a <see cref="FaultProxy"/>, and its tills, enrolled devices that sell through
/// the store's API on the store's schedule. A sale counts as acknowledged when the till's <c>complete</c> answered.
/// </summary>
internal sealed class SimulatedStore : IAsyncDisposable
{
    private const string AdminToken = "simulation-back-office";
    private readonly List<HttpClient> _tills = [];
    private readonly SocketsHttpHandler _handler = new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };

    private SimulatedStore(int index, string id, string region, string zone, FaultProxy link, WebApplication server)
    {
        Index = index;
        Id = id;
        Region = region;
        Zone = zone;
        Link = link;
        Server = server;
        Monitor = server.Services.GetRequiredService<ConnectivityMonitor>();
        Log = server.Services.GetRequiredService<Outpost.Core.Log.IEventLog>();
    }

    public int Index { get; }

    public string Id { get; }

    public string Region { get; }

    public string Zone { get; }

    public FaultProxy Link { get; }

    public WebApplication Server { get; }

    public ConnectivityMonitor Monitor { get; }

    public Outpost.Core.Log.IEventLog Log { get; }

    /// <summary>Sales a till gave up on (the store never answered): none expected, each one reported.</summary>
    public int FailedAtDevice;

    public static async Task<SimulatedStore> StartAsync(int index, string region, string zone, string secret, Uri hq, string directory, int seed, int tills, CancellationToken cancellationToken)
    {
        var id = StoreId(index);
        var link = new FaultProxy(hq, seed: StableSeed.Of(seed, index));
        var options = new StoreOptions
        {
            StoreId = id,
            Region = region,
            TimeZone = zone,
            DataDirectory = Path.Combine(directory, id),
            Urls = "http://127.0.0.1:0",
            AdminToken = AdminToken,
            RetentionInterval = TimeSpan.FromMinutes(1),
        };
        options.Sync.Central = link.Address;
        options.Sync.Secret = secret;

        // Simulated time passes about 180 times faster than real time: the agent's back-off is capped at one real
        // second, so that a reconnection is not measured in the agent's waiting instead of in replication.
        options.Sync.BackoffCap = TimeSpan.FromSeconds(1);
        var server = StoreHost.Build(options, builder => builder.Logging.SetMinimumLevel(LogLevel.None));
        await server.StartAsync(cancellationToken);
        var store = new SimulatedStore(index, id, region, zone, link, server);
        using var admin = store.Client(AdminToken);
        for (var i = 0; i < tills; i++)
        {
            var enrolled = await ReadAsync(await admin.PostAsJsonAsync("/api/devices", new { name = $"till {i + 1}", role = "till" }, cancellationToken), cancellationToken);
            store._tills.Add(store.Client(enrolled.GetProperty("token").GetString()!));
        }

        return store;
    }

    public static string StoreId(int index) => "sim-" + index.ToString("D5", CultureInfo.InvariantCulture);

    /// <summary>The price the store's API gives for a product now (null: it has none).</summary>
    public async Task<decimal?> PriceAsync(string gtin, CancellationToken cancellationToken)
    {
        using var response = await _tills[0].GetAsync($"/api/products/{gtin}", cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var label = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
        return label.TryGetProperty("price", out var price) && price.ValueKind == JsonValueKind.Number ? price.GetDecimal() : null;
    }

    /// <summary>
    /// Sells on each till its share of <paramref name="times"/> (simulated, mapped to real time by
    /// <paramref name="realAt"/>); each acknowledged sale goes to <paramref name="acknowledged"/>.
    /// </summary>
    public Task SellAsync(IReadOnlyList<TimeSpan> times, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, IReadOnlyList<string> products, int seed,
        Action<string, string> acknowledged, CancellationToken cancellationToken) =>
        Task.WhenAll(_tills.Select((till, t) => Task.Run(async () =>
        {
            var random = new Random(StableSeed.Of(seed, Index, t, 0x7111));
            for (var i = t; i < times.Count; i += _tills.Count)
            {
                var wait = realAt(times[i]) - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                var lines = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => (products[random.Next(products.Count)], 1 + random.Next(2))).ToList();
                if (await CheckoutAsync(till, lines, cancellationToken) is { } saleId)
                {
                    acknowledged(Id, saleId);
                }
                else
                {
                    Interlocked.Increment(ref FailedAtDevice);
                }
            }
        }, cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        foreach (var till in _tills)
        {
            till.Dispose();
        }

        _handler.Dispose();
        await Server.StopAsync(CancellationToken.None);
        await Server.DisposeAsync();
        await Link.DisposeAsync();
    }

    /// <summary>A till's sale through the store's API; each step retried a few times as a till does; the sale id, or null.</summary>
    private static async Task<string?> CheckoutAsync(HttpClient till, List<(string Gtin, int Quantity)> lines, CancellationToken cancellationToken)
    {
        var basket = await StepAsync(() => till.PostAsJsonAsync("/api/baskets", new { }, cancellationToken), cancellationToken);
        if (basket is null)
        {
            return null;
        }

        var id = basket.Value.GetProperty("id").GetString()!;
        foreach (var (gtin, quantity) in lines)
        {
            if (await StepAsync(() => till.PostAsJsonAsync($"/api/baskets/{id}/lines", new { code = gtin, quantity }, cancellationToken), cancellationToken) is null)
            {
                return null;
            }
        }

        if (await StepAsync(() => till.PostAsJsonAsync($"/api/baskets/{id}/payments", new { method = "card" }, cancellationToken), cancellationToken) is null)
        {
            return null;
        }

        // The idempotency key makes a retried completion the same sale.
        var done = await StepAsync(() => till.PostAsJsonAsync($"/api/baskets/{id}/complete", new { idempotencyKey = id }, cancellationToken), cancellationToken);
        return done?.GetProperty("sale").GetProperty("saleId").GetString();
    }

    private static async Task<JsonElement?> StepAsync(Func<Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                using var response = await send();
                if (response.IsSuccessStatusCode)
                {
                    return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
                }

                if ((int)response.StatusCode < 500 && (int)response.StatusCode != 429)
                {
                    return null; // the store refused it: retrying would not help
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100 << attempt), cancellationToken);
        }

        return null;
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.Clone() : throw new InvalidOperationException($"{(int)response.StatusCode}: {body}");
    }

    private HttpClient Client(string token)
    {
        var client = new HttpClient(_handler, disposeHandler: false) { BaseAddress = Server.Address(), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
