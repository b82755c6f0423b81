using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Outpost.Central;
using Outpost.Central.Stores;
using Outpost.Cli.Bench;
using Outpost.Core.Log;
using Outpost.Core.Postgres;
using Outpost.Retail;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Simulation;

/// <summary>
/// HQ as the simulation runs it. On SQLite: one node, the real Central in the simulation's process. On PostgreSQL:
/// a throwaway local PostgreSQL 15 server (durable: fsync on) and <c>--hq-nodes</c> nodes sharing its database, each
/// a process of its own (<c>outpost central --postgres</c>, as in production), so that HQ's CPU and memory are
/// measured apart from the stores', its nodes can be killed with SIGKILL, and the database restarted under load.
/// The checker reads HQ's log through <see cref="Log"/>: HQ's own log on SQLite, the shared database on PostgreSQL.
/// </summary>
internal sealed class SimulatedHq : IAsyncDisposable
{
    /// <summary>
    /// How long the simulation waits on HQ to come back from a fault (a node killed, PostgreSQL restarted) or to answer an
    /// admin request, before it calls HQ hung. At 10,000 stores reconnecting on two cores a restarted node took 46 s to
    /// 82 s and the nodes read PostgreSQL again only after more than two minutes, so one bound serves all: five minutes.
    /// </summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    private const string AdminToken = "simulation-hq-admin";
    private readonly WebApplication? _inProcess;
    private readonly List<ServerProcess> _nodes = [];
    private readonly List<HttpClient> _admins = [];
    private readonly List<SemaphoreSlim> _gates = [];
    private LocalPostgresServer? _postgres;
    private IEventLog? _log;
    private TimeSpan _postgresCpuOfEarlierLives;

    private SimulatedHq(WebApplication? inProcess, string directory)
    {
        _inProcess = inProcess;
        Directory = directory;
    }

    /// <summary>HQ's SQLite folder (on SQLite).</summary>
    public string Directory { get; }

    /// <summary>The shared database's connection string (on PostgreSQL).</summary>
    public string? Postgres { get; private set; }

    /// <summary>HQ's log, for the checker.</summary>
    public IEventLog Log => _log!;

    public int Nodes => _inProcess is null ? _nodes.Count : 1;

    /// <summary>Faults on HQ (a node down, the database restarting) now and ever: a latency sample counts only while none ran and none began.</summary>
    public Disturbance Faults { get; } = new();

    /// <summary>Whether HQ runs in processes of its own (its CPU and memory measured apart from the stores').</summary>
    public bool Apart => _inProcess is null;

    /// <param name="time">HQ's clock on SQLite (the offline fortnight's fast one); the machine's by default.</param>
    public static async Task<SimulatedHq> StartAsync(SimulationSettings settings, string directory, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        if (settings.Hq != "postgres")
        {
            var node = CentralHost.Build(new CentralOptions
            {
                DataDirectory = Path.Combine(directory, "hq"),
                Urls = "http://127.0.0.1:0",
                Topics = RetailTopics.Catalog,
                AdminToken = AdminToken,
                Time = time ?? TimeProvider.System,
            }, builder => builder.Logging.SetMinimumLevel(LogLevel.None));
            var single = new SimulatedHq(node, Path.Combine(directory, "hq"));
            await node.StartAsync(cancellationToken);
            single._log = node.Services.GetRequiredService<IEventLog>();
            single._admins.Add(Admin(node.Address()));
            return single;
        }

        var hq = new SimulatedHq(null, Path.Combine(directory, "hq"));
        try
        {
            hq._postgres = new LocalPostgresServer(durable: true);
            await hq._postgres.StartAsync();
            hq.Postgres = await hq._postgres.CreateDatabaseAsync(cancellationToken);
            for (var n = 0; n < settings.HqNodes; n++)
            {
                var address = new Uri($"http://127.0.0.1:{OutpostProcess.FreePort()}/");
                hq._nodes.Add(new ServerProcess(
                    ["central", "--postgres", hq.Postgres + ";Maximum Pool Size=150", "--urls", address.ToString().TrimEnd('/'), "--admin-token", AdminToken],
                    new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" },
                    address,
                    Path.Combine(directory, Name(n) + ".log"))
                {
                    ReadyWithin = Patience,
                });
                hq._admins.Add(Admin(address));
                hq._gates.Add(new SemaphoreSlim(1, 1));
            }

            // The first node creates the schema; the others start on it.
            await hq._nodes[0].StartAsync(cancellationToken);
            await Task.WhenAll(hq._nodes.Skip(1).Select(n => n.StartAsync(cancellationToken)));
            hq._log = await PostgresEventLog.OpenAsync(hq.Postgres, new LogOptions { NodeId = "simulation-checker", Topics = RetailTopics.Catalog }, cancellationToken: cancellationToken);
            return hq;
        }
        catch
        {
            await hq.DisposeAsync();
            throw;
        }
    }

    /// <summary>Where node <paramref name="n"/> listens.</summary>
    public Uri Address(int n) => _inProcess?.Address() ?? _nodes[n].Address;

    /// <summary>Whether node <paramref name="n"/> runs now.</summary>
    public bool IsUp(int n) => _inProcess is not null || _nodes[n].Running;

    /// <summary>The node a load balancer sends a client of node <paramref name="home"/> to: its home while it runs, else the next one that does; none when all are down.</summary>
    public int? Route(int home) =>
        Enumerable.Range(0, Nodes).Select(k => (home + k) % Nodes).Cast<int?>().FirstOrDefault(n => IsUp(n!.Value));

    /// <summary>An admin client for node <paramref name="n"/>.</summary>
    public HttpClient AdminOf(int n) => _admins[n];

    /// <summary>What HQ's fleet view shows as the store's last error or problem (from the first node that runs), or null.</summary>
    public async Task<string?> FleetErrorAsync(string storeId, CancellationToken cancellationToken)
    {
        var fleet = await AdminOf(Route(0) ?? 0).GetFromJsonAsync<System.Text.Json.JsonElement>("/admin/fleet", cancellationToken);
        foreach (var store in fleet.EnumerateArray())
        {
            if (store.GetProperty("storeId").GetString() == storeId)
            {
                return store.TryGetProperty("error", out var error) && error.ValueKind == System.Text.Json.JsonValueKind.String ? error.GetString() : null;
            }
        }

        return null;
    }

    /// <summary>Registers a store (through the admin API of the first node that runs) and returns its secret.</summary>
    public async Task<string> RegisterAsync(string storeId, string region, CancellationToken cancellationToken)
    {
        using var response = await AdminOf(Route(0) ?? 0).PostAsJsonAsync("/admin/stores", new { storeId, region }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode
            ? System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("secret").GetString()!
            : throw new InvalidOperationException($"HQ refused to register {storeId}: {(int)response.StatusCode} {body}");
    }

    /// <summary>
    /// SIGKILL of node <paramref name="n"/>; <paramref name="down"/> is called once it is down (the load balancer
    /// moves its stores), then it stays down for <paramref name="downFor"/> and starts again, and <paramref name="down"/>
    /// is called again. A node's kills take turns: a kill due while the node is still down or starting waits for it.
    /// </summary>
    public async Task KillAndRestartAsync(int n, TimeSpan downFor, Action down, CancellationToken cancellationToken)
    {
        var gate = _gates[n];
        await gate.WaitAsync(cancellationToken);
        try
        {
            await Process(n).KillAsync();
            down();
            await Task.Delay(downFor, cancellationToken);
            await Process(n).StartAsync(cancellationToken);
            down();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Node <paramref name="n"/> is killed and never comes back: its machine is gone. Its turn is never given back, so no kill restarts it.</summary>
    public async Task LoseAsync(int n)
    {
        await _gates[n].WaitAsync();
        await Process(n).KillAsync();
    }

    /// <summary>PostgreSQL crashes (immediate stop) under load, stays down <paramref name="down"/>, and starts again on the same files.</summary>
    public async Task RestartDatabaseAsync(TimeSpan down, CancellationToken cancellationToken)
    {
        var postgres = _postgres ?? throw new InvalidOperationException("HQ runs on SQLite: there is no database server to restart.");
        _postgresCpuOfEarlierLives += PostgresCpuNow();
        await postgres.RestartAsync(down, cancellationToken);
    }

    /// <summary>Whether every node that runs reads its database now (HQ's parked events: a query of the log).</summary>
    public async Task<bool> ReadsDatabaseAsync(CancellationToken cancellationToken)
    {
        foreach (var n in Enumerable.Range(0, Nodes).Where(IsUp))
        {
            try
            {
                using var response = await AdminOf(n).GetAsync("/admin/parked", cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return false;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>HQ's CPU so far: its nodes' (all their lives) and, on PostgreSQL, the database server's; null when HQ shares the simulation's process.</summary>
    public double? CpuSeconds => Apart ? (_nodes.Aggregate(TimeSpan.Zero, (sum, n) => sum + n.CpuTime) + _postgresCpuOfEarlierLives + PostgresCpuNow()).TotalSeconds : null;

    /// <summary>HQ's nodes' resident memory now (the database server's apart); null when HQ shares the simulation's process.</summary>
    public double? ResidentMiB => Apart ? _nodes.Sum(n => n.ResidentBytes) / (1024.0 * 1024) : null;

    /// <summary>HQ's database on disk: the SQLite files, or the PostgreSQL database's size.</summary>
    public async Task<long> DatabaseBytesAsync(CancellationToken cancellationToken)
    {
        if (Postgres is null)
        {
            return System.IO.Directory.GetFiles(Directory, "hq.db*").Sum(f => new FileInfo(f).Length);
        }

        await using var connection = new Npgsql.NpgsqlConnection(Postgres);
        await connection.OpenAsync(cancellationToken);
        await using var size = new Npgsql.NpgsqlCommand("SELECT pg_database_size(current_database())", connection);
        return (long)(await size.ExecuteScalarAsync(cancellationToken))!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_inProcess is not null)
        {
            await _inProcess.StopAsync(CancellationToken.None);
            await _inProcess.DisposeAsync();
        }
        else if (_log is not null)
        {
            await _log.DisposeAsync();
        }

        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        _admins.ForEach(a => a.Dispose());
        _gates.ForEach(g => g.Dispose());
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    private ServerProcess Process(int n) => _inProcess is null ? _nodes[n] : throw new InvalidOperationException("HQ on SQLite runs in the simulation's process: it has no process to kill.");

    private TimeSpan PostgresCpuNow() =>
        _postgres?.ProcessId is { } postmaster && OperatingSystem.IsLinux() ? ServerProcess.Alive(() => CpuLedger.ProcessTree(postmaster)) : TimeSpan.Zero;

    private static HttpClient Admin(Uri address)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    /// <summary>A node number for messages.</summary>
    public static string Name(int n) => "hq" + (n + 1).ToString(CultureInfo.InvariantCulture);
}
