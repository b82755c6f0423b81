using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Cli.Bench;
using Outpost.Store;
using Outpost.Sync.Agent;
using Outpost.Sync.Faults;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Simulation;

/// <summary>
/// One store of the simulation: a real store server (its own SQLite log, replication agent and checkout), its link to
/// HQ through a <see cref="FaultProxy"/>, and its tills, enrolled devices that sell through the store's API on the
/// store's schedule. A sale counts as acknowledged when the till's <c>complete</c> answered. Most stores run in this
/// process; a sample runs as child processes (<c>outpost store</c>) that the simulation kills with SIGKILL and starts
/// again on the same files.
/// </summary>
internal sealed class SimulatedStore : IAsyncDisposable
{
    private const string AdminToken = "simulation-back-office";

    /// <summary>Connections waiting to be accepted by a store server in the simulation's process (Kestrel's default: 512).</summary>
    internal const int ListenBacklog = 32;

    /// <summary>
    /// Connections a store server in the simulation's process holds open at once: its seven devices (each with a sale
    /// or order and a heartbeat at a time), its back office and the checker, with room to spare. Both ends of each are
    /// in the simulation's process: 196 stores stay within its 20,000 files whatever their devices do.
    /// </summary>
    internal const int MaxConnections = 32;
    private readonly List<HttpClient> _tills = [];
    private readonly SocketsHttpHandler _handler = new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(5) };
    private readonly WebApplication? _server;
    private readonly string _logPath;
    private ServerProcess? _process;
    private Outpost.Core.Log.Sqlite.SqliteEventLog? _closedLog;
    private HttpClient? _admin;
    private HttpClient? _kiosk;
    private HttpClient? _handheld;

    private SimulatedStore(int index, string id, string region, string zone, FaultProxy link, Uri address, string logPath, WebApplication? server)
    {
        Index = index;
        Id = id;
        Region = region;
        Zone = zone;
        Link = link;
        Address = address;
        _logPath = logPath;
        _server = server;
    }

    public int Index { get; }

    public string Id { get; }

    public string Region { get; }

    public string Zone { get; }

    /// <summary>Which versions of its sales it writes (the previous release's, or this one's).</summary>
    public Outpost.Retail.Checkout.EventVersions Versions { get; private init; }

    public FaultProxy Link { get; }

    public Uri Address { get; private set; }

    /// <summary>Its wrong clock when it runs as a process of its own with one (libfaketime); null otherwise.</summary>
    public FakeClock? ProcessClock { get; private init; }

    /// <summary>Its wall clock jumps by <paramref name="by"/>, in this process (<see cref="Clock"/>) or in its own (<see cref="ProcessClock"/>).</summary>
    public void JumpClock(TimeSpan by)
    {
        if (Clock is { } clock)
        {
            clock.Jump(by);
        }
        else
        {
            (ProcessClock ?? throw new InvalidOperationException($"{Id} has no clock the simulation can set.")).Jump(by);
        }
    }

    /// <summary>Where its files are (a store in this process).</summary>
    public string? DataDirectory { get; private init; }

    /// <summary>Its tills, enrolled devices with their own credentials.</summary>
    public IReadOnlyList<HttpClient> Tills => _tills;

    /// <summary>Its wall clock (a store in this process; null for a child process, whose clock is the machine's).</summary>
    public SkewedClock? Clock { get; private init; }

    /// <summary>The HQ node its link goes to now (the load balancer moves it when a node goes down).</summary>
    public int HqNode { get; set; }

    /// <summary>Whether this store runs as a child process the simulation kills.</summary>
    public bool Killable => _server is null;

    /// <summary>Times this store's process was killed.</summary>
    public int Kills { get; private set; }

    /// <summary>Sales a till gave up on while the store's process was up (the store never answered): none expected, each one reported.</summary>
    public int FailedAtDevice;

    /// <summary>Orders the kiosk gave up on while the store's process was up: none expected; each may or may not be at the store.</summary>
    public int OrdersGivenUp;

    /// <summary>Stock counts the handheld gave up on while the store's process was up: none expected.</summary>
    public int CountsGivenUp;

    /// <summary>
    /// Sales, orders and counts a device gave up on because its store's process was down (killed, or not answering
    /// <c>/health/ready</c> yet after its start) at some moment while the device tried: what a customer sees as "try
    /// again" while the store server restarts, counted apart, never as a failure of the store's guarantees.
    /// </summary>
    public int SalesWhileDown, OrdersWhileDown, CountsWhileDown;

    private readonly Downtime _downtime = new();

    /// <summary>Counts a device's give-up in <paramref name="whileDown"/> when the store's process was down at some moment since <paramref name="mark"/>, else in <paramref name="failed"/>.</summary>
    private void GaveUp(Downtime.Mark mark, ref int whileDown, ref int failed) =>
        Interlocked.Increment(ref _downtime.Since(mark) ? ref whileDown : ref failed);

    /// <summary>Stock counts the store acknowledged to the handheld.</summary>
    public int CountsAcknowledged;

    /// <summary>Orders the store confirmed to its kiosk, by id.</summary>
    public ConcurrentQueue<string> Orders { get; } = new();

    /// <summary>Sales a till started again from a new basket after its store lost the basket in a crash.</summary>
    public int Restarted;

    /// <summary>The records of its log the simulation damaged on disk (<see cref="FaultKind.DamagedRecord"/>).</summary>
    public ConcurrentQueue<DamagedSale> Damaged { get; } = new();

    /// <summary>Its log file.</summary>
    public string LogPath => _logPath;

    private int _acknowledged;
    private long _lastAcknowledged;

    /// <summary>Sales its tills saw acknowledged so far.</summary>
    public int Acknowledged => Volatile.Read(ref _acknowledged);

    private readonly ConcurrentDictionary<string, bool> _acknowledgedIds = new();

    /// <summary>Whether a till of this store has had its answer for the sale (<paramref name="saleId"/>).</summary>
    public bool WasAcknowledged(string saleId) => _acknowledgedIds.ContainsKey(saleId);

    /// <summary>When the last of them was acknowledged (a <see cref="Stopwatch"/> timestamp).</summary>
    public long LastAcknowledged => Interlocked.Read(ref _lastAcknowledged);

    /// <summary>Faults on it (its link, its process) now and ever: a latency sample counts only while none ran and none began.</summary>
    public Disturbance Faults { get; } = new();

    /// <param name="clockOffset">How far the store's wall clock is off (a store in this process only).</param>
    /// <param name="time">The store's clock instead of a skewed machine clock (the offline fortnight's fast one; in this process only).</param>
    /// <param name="terminal">The store's payment terminal (in this process only).</param>
    /// <param name="rateLimits">Its per-device limits (a till that sells a day in seconds needs higher ones; in this process only).</param>
    /// <param name="processClock">A store run as a process gets a wrong clock of its own (libfaketime), off by <paramref name="clockOffset"/>.</param>
    public static async Task<SimulatedStore> StartAsync(int index, string region, string zone, string secret, Uri hq, string directory, int seed, int tills, bool asProcess,
        TimeSpan clockOffset, CancellationToken cancellationToken, TimeProvider? time = null, Outpost.Retail.Checkout.IPaymentTerminal? terminal = null,
        Outpost.Store.Api.DeviceRateLimitOptions? rateLimits = null, bool processClock = false,
        Outpost.Retail.Checkout.EventVersions versions = Outpost.Retail.Checkout.EventVersions.Current)
    {
        var id = StoreId(index);
        var link = new FaultProxy(hq, seed: StableSeed.Of(seed, index));
        var data = Path.Combine(directory, id);
        SimulatedStore store;
        if (asProcess)
        {
            var address = new Uri($"http://127.0.0.1:{OutpostProcess.FreePort()}/");
            Directory.CreateDirectory(data);
            var fake = processClock ? new FakeClock(Path.Combine(directory, id + ".clock"), clockOffset) : null;
            store = new SimulatedStore(index, id, region, zone, link, address, Path.Combine(data, "store.db"), null) { ProcessClock = fake, Versions = versions };
            var environment = new Dictionary<string, string>
            {
                ["Logging__LogLevel__Default"] = "Warning",
                ["OUTPOST_STORE_Sync__BackoffCap"] = "00:00:01",
                ["OUTPOST_STORE_RetentionInterval"] = "00:01:00",
            };
            foreach (var (name, value) in fake?.Environment ?? new Dictionary<string, string>())
            {
                environment[name] = value;
            }

            for (var attempt = 1; ; attempt++)
            {
                store._process = new ServerProcess(
                    ["store", "--id", id, "--region", region, "--time-zone", zone, "--data", data, "--urls", store.Address.ToString().TrimEnd('/'),
                        "--admin-token", AdminToken, "--central", link.Address.ToString(), "--secret", secret, "--event-versions", versions.ToString()],
                    environment,
                    store.Address,
                    Path.Combine(data, "store.log"))
                {
                    // Alone on this machine a store answers in about a second; beside 196 store servers, 19,800
                    // stand-ins and HQ (a load average of 160) a start after a kill took more than a minute.
                    ReadyWithin = TimeSpan.FromMinutes(5),
                };
                try
                {
                    await store.StartProcessAsync(cancellationToken);
                    break;
                }
                catch (InvalidOperationException) when (attempt < 3)
                {
                    // Another program took the port between choosing it and the store's start (the store then exits,
                    // unable to listen): a new port for its first start; its later starts keep the one it has.
                    await store._process.DisposeAsync();
                    store.Address = new Uri($"http://127.0.0.1:{OutpostProcess.FreePort()}/");
                }
            }
        }
        else
        {
            var options = new StoreOptions
            {
                StoreId = id,
                Region = region,
                TimeZone = zone,
                DataDirectory = data,
                Urls = "http://127.0.0.1:0",
                AdminToken = AdminToken,
                RetentionInterval = TimeSpan.FromMinutes(1),

                // A commit here survives a crash of the process without an fsync of its own (synchronous=NORMAL), and a
                // store in this process is never killed: the stores the simulation kills run as processes, with the
                // store's default of an fsync per commit. 200 store servers each waiting for its own fsync on the one
                // disk they share with HQ's database and the stand-ins' logs would measure that disk's queue.
                Durability = Outpost.Core.Log.LogDurability.Normal,
            };
            options.Sync.Central = link.Address;
            options.Sync.Secret = secret;

            // Simulated time passes about 180 times faster than real time: the agent's back-off is capped at one real
            // second, so that a reconnection is not measured in the agent's waiting instead of in replication.
            options.Sync.BackoffCap = TimeSpan.FromSeconds(1);
            var clock = time is null ? new SkewedClock(clockOffset) : null;
            options.Time = time ?? clock!;
            options.PaymentTerminal = terminal ?? options.PaymentTerminal;
            options.RateLimits = rateLimits ?? options.RateLimits;
            options.Retail = options.Retail with { Checkout = options.Retail.Checkout with { EventVersions = versions } };
            var server = StoreHost.Build(options, builder =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.None);

                // A store server has a machine of its own; here up to 200 share one process and two cores with HQ and
                // the stand-ins. A device whose connection waits too long to be accepted gives up on it and connects
                // again, so a saturated machine fills the listeners' queues (512 each by default) with connections
                // the process accepts later, only to find them closed: 20,000 stores ran the process out of file
                // descriptors that way (docs/simulation.md). A short queue and a cap on open connections make a busy
                // store refuse a connection at once instead, which the device retries as it does any refusal.
                builder.WebHost.UseSockets(sockets => sockets.Backlog = ListenBacklog);
                builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxConcurrentConnections = MaxConnections);
            });
            await server.StartAsync(cancellationToken);
            store = new SimulatedStore(index, id, region, zone, link, server.Address(), options.LogPath, server) { Clock = clock, DataDirectory = data, Versions = versions };
        }

        store._admin = store.Client(AdminToken);
        for (var i = 0; i < tills; i++)
        {
            store._tills.Add(await store.EnrolAsync($"till {i + 1}", "till", cancellationToken));
        }

        store._kiosk = await store.EnrolAsync("kiosk 1", "kiosk", cancellationToken);
        store._handheld = await store.EnrolAsync("handheld 1", "handheld", cancellationToken);
        return store;
    }

    /// <summary>Whether the store has HQ's catalog: the last product's price and the whole menu.</summary>
    public async Task<bool> HasCatalogAsync(string lastProduct, int menuItems, CancellationToken cancellationToken)
    {
        if (await PriceAsync(lastProduct, cancellationToken) is null)
        {
            return false;
        }

        var menu = await StepAsync(() => _kiosk!.GetAsync("/api/menu", cancellationToken), cancellationToken, TimeSpan.FromSeconds(5));
        return menu is { ValueKind: JsonValueKind.Array } items && items.GetArrayLength() == menuItems;
    }

    /// <summary>The store's link to HQ as the store reports it; a store whose process is down is offline.</summary>
    public async Task<ConnectivityStatus> StatusAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            return _server.Services.GetRequiredService<ConnectivityMonitor>().Current;
        }

        try
        {
            using var response = await _admin!.GetAsync("/api/connectivity", cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
                return new ConnectivityStatus(Enum.Parse<ConnectivityState>(json.GetProperty("state").GetString()!, ignoreCase: true), json.GetProperty("since").GetDateTimeOffset(),
                    json.TryGetProperty("lastError", out var error) && error.ValueKind == JsonValueKind.String ? error.GetString() : null,
                    json.GetProperty("upBacklog").GetInt64(), json.GetProperty("downLag").GetInt64(), null, null,
                    json.TryGetProperty("notSent", out var notSent) ? notSent.GetInt32() : 0, json.TryGetProperty("lastNotSent", out var last) ? last.GetInt64() : 0);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Down, or too busy to answer within the client's timeout: not online either way.
        }

        return new ConnectivityStatus(ConnectivityState.Offline, DateTimeOffset.MinValue, "the store's process is down", 0, 0, null, null);
    }

    /// <summary>
    /// The store's log, for the checker. A store in this process gives its open log; a child process is killed first
    /// (SIGKILL, one last time: what it acknowledged must be in its file) and its file opened here.
    /// </summary>
    public async Task<Outpost.Core.Log.IEventLog> LogAsync()
    {
        if (_server is not null)
        {
            return _server.Services.GetRequiredService<Outpost.Core.Log.IEventLog>();
        }

        if (_closedLog is null)
        {
            await KillAsync(scheduled: false);
            _closedLog = Outpost.Core.Log.Sqlite.SqliteEventLog.Open(new Outpost.Core.Log.LogOptions { Path = _logPath, NodeId = Id, Topics = Outpost.Retail.RetailTopics.Catalog });
        }

        return _closedLog;
    }

    /// <summary>SIGKILL: the process gets no chance to finish anything. <paramref name="scheduled"/>: a kill of the schedule, counted.</summary>
    public async Task KillAsync(bool scheduled = true)
    {
        if (_process is { Running: true } process)
        {
            Kills += scheduled ? 1 : 0;
            _downtime.WentDown();
            await process.KillAsync();
        }
    }

    /// <summary>Starts the child process again on the same files and port, and waits until it answers.</summary>
    public async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        await (_process ?? throw new InvalidOperationException($"{Id} runs in the simulation's process: it has no process to start.")).StartAsync(cancellationToken);
        _downtime.CameUp();
    }

    public static string StoreId(int index) => "sim-" + index.ToString("D5", CultureInfo.InvariantCulture);

    /// <summary>The price the store's API gives for a product now (null: it has none).</summary>
    /// <remarks>A store that does not answer has no price for the checker either: it counts as a wrong one, not as a broken run.</remarks>
    public async Task<decimal?> PriceAsync(string gtin, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _tills[0].GetAsync($"/api/products/{gtin}", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var label = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
            return label.TryGetProperty("price", out var price) && price.ValueKind == JsonValueKind.Number ? price.GetDecimal() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
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
                await FleetSimulation.AtAsync(clock, realAt(times[i]), cancellationToken);

                var lines = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => (products[random.Next(products.Count)], 1 + random.Next(2))).ToList();
                string? saleId = null;
                var mark = _downtime.Now;
                for (var attempt = 0; attempt < 3 && saleId is null; attempt++)
                {
                    // A basket the store lost in a crash is scanned again from a new one, as a cashier would.
                    saleId = await CheckoutAsync(till, lines, cancellationToken);
                    if (saleId is null && attempt < 2)
                    {
                        Interlocked.Increment(ref Restarted);
                    }
                }

                if (saleId is not null)
                {
                    Interlocked.Exchange(ref _lastAcknowledged, Stopwatch.GetTimestamp());
                    Interlocked.Increment(ref _acknowledged);
                    _acknowledgedIds[saleId] = true;
                    acknowledged(Id, saleId);
                }
                else
                {
                    GaveUp(mark, ref SalesWhileDown, ref FailedAtDevice);
                }
            }
        }, cancellationToken)));

    /// <summary>
    /// The kiosk places an order at each of <paramref name="times"/> (one or two menu items), each with an idempotency
    /// key of its own kept through the retries, as the kiosk page does: an order is placed once however often it is sent.
    /// </summary>
    public async Task OrderAsync(IReadOnlyList<TimeSpan> times, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, IReadOnlyList<string> menu, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(StableSeed.Of(seed, Index, 0x0da));
        for (var i = 0; i < times.Count; i++)
        {
            await FleetSimulation.AtAsync(clock, realAt(times[i]), cancellationToken);
            var lines = Enumerable.Range(0, 1 + random.Next(2)).Select(_ => new { code = menu[random.Next(menu.Count)], quantity = 1 + random.Next(2) }).ToArray();
            var key = $"{Id}-order-{i}";
            var mark = _downtime.Now;
            var placed = await StepAsync(() => _kiosk!.PostAsJsonAsync("/api/orders", new { lines, idempotencyKey = key }, cancellationToken), cancellationToken);
            if (placed?.GetProperty("order").GetProperty("orderId").GetString() is { } orderId)
            {
                Orders.Enqueue(orderId);
            }
            else
            {
                GaveUp(mark, ref OrdersWhileDown, ref OrdersGivenUp);
            }
        }
    }

    /// <summary>The handheld counts a product on the shelf at each of <paramref name="times"/> (a count sets the level: a retry changes nothing).</summary>
    public async Task CountAsync(IReadOnlyList<TimeSpan> times, Func<TimeSpan, TimeSpan> realAt, Stopwatch clock, IReadOnlyList<string> products, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(StableSeed.Of(seed, Index, 0xc0c));
        foreach (var at in times)
        {
            await FleetSimulation.AtAsync(clock, realAt(at), cancellationToken);
            var counted = new { gtin = products[random.Next(products.Count)], quantity = random.Next(0, 200) };
            var mark = _downtime.Now;
            if (await StepAsync(() => _handheld!.PostAsJsonAsync("/api/stock/counts", counted, cancellationToken), cancellationToken) is null)
            {
                GaveUp(mark, ref CountsWhileDown, ref CountsGivenUp);
            }
            else
            {
                Interlocked.Increment(ref CountsAcknowledged);
            }
        }
    }

    /// <summary>
    /// Every device (tills, kiosk, handheld) says it is alive every <paramref name="every"/> until cancelled, as the
    /// pages do; the store sends one heartbeat per device per minute up as telemetry. A heartbeat the store misses
    /// while its process is down is not retried: the next one replaces it.
    /// </summary>
    public async Task HeartbeatsAsync(TimeSpan every, CancellationToken cancellationToken)
    {
        HttpClient[] devices = [.. _tills, _kiosk!, _handheld!];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.WhenAll(devices.Select(async device =>
                {
                    try
                    {
                        using var response = await device.PostAsJsonAsync("/api/devices/heartbeat", new { appVersion = "outpost-sim/1" }, cancellationToken);
                    }
                    catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
                    {
                    }
                }));
                await Task.Delay(every, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var till in _tills)
        {
            till.Dispose();
        }

        _admin?.Dispose();
        _kiosk?.Dispose();
        _handheld?.Dispose();
        _handler.Dispose();
        if (_server is not null)
        {
            await _server.StopAsync(CancellationToken.None);
            await _server.DisposeAsync();
        }

        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (_closedLog is not null)
        {
            await _closedLog.DisposeAsync();
        }

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

    /// <summary>
    /// One request of a sale, retried on a 5xx, a 429 or no answer (the store's process may be starting again after
    /// a crash) for up to 30 s, as a till does; null when the store refused it or never answered.
    /// </summary>
    private static async Task<JsonElement?> StepAsync(Func<Task<HttpResponseMessage>> send, CancellationToken cancellationToken, TimeSpan? bound = null)
    {
        var trying = Stopwatch.StartNew();
        for (var attempt = 0; trying.Elapsed < (bound ?? TimeSpan.FromSeconds(30)); attempt++)
        {
            try
            {
                using var response = await send();
                if (response.IsSuccessStatusCode)
                {
                    var body = await response.Content.ReadAsStringAsync(cancellationToken);
                    return body.Length == 0 ? default(JsonElement) : JsonDocument.Parse(body).RootElement.Clone(); // 204: done, nothing to read
                }

                if ((int)response.StatusCode < 500 && (int)response.StatusCode != 429)
                {
                    return null; // the store refused it: retrying would not help
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 << Math.Min(attempt, 4))), cancellationToken);
        }

        return null;
    }

    private async Task<HttpClient> EnrolAsync(string name, string role, CancellationToken cancellationToken)
    {
        var enrolled = await ReadAsync(await _admin!.PostAsJsonAsync("/api/devices", new { name, role }, cancellationToken), cancellationToken);
        return Client(enrolled.GetProperty("token").GetString()!);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.Clone() : throw new InvalidOperationException($"{(int)response.StatusCode}: {body}");
    }

    private HttpClient Client(string token)
    {
        var client = new HttpClient(_handler, disposeHandler: false) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
