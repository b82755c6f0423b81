using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Outpost.Core.Events;
using Outpost.Sync.Agent;
using Outpost.Sync.Rollouts;

namespace Outpost.Cli.Bench;

/// <summary>
/// A rollout across a simulated fleet: HQ as its own process (<c>outpost central</c>, SQLite as shipped by default),
/// and thousands of protocol-faithful deploy agents in this process, each one its store's replication as the store
/// runs it (a long poll on HQ's down feed for the desired release, its steps sent up as <c>DeploymentProgressed</c>
/// events in the store's own sequence) and the agent's steps with fixed durations (download, start, soak) in place of
/// a real pull and restart. Measured: the time from "rollout started" to "completed" beside the floor (the waves' own
/// waits: the agents' steps and HQ's soak, wave after wave), HQ's CPU and peak memory while the agents report, and
/// the bytes of one release's desired state and reports per store.
/// </summary>
internal sealed class RolloutBenchmark(TextWriter output, int stores, int soakSeconds, string? postgres)
{
    private const string AdminToken = "bench-admin";
    private const string Admin = "release";
    private static readonly TimeSpan Download = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AgentSoak = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(5); // HQ's RolloutInterval as shipped
    private readonly string _run = DateTime.UtcNow.ToString("yyMMddHHmmss", CultureInfo.InvariantCulture);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "outpost-bench-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task<RolloutBenchResult> RunAsync(CancellationToken cancellationToken)
    {
        output.WriteLine($"outpost bench rollout: {stores:N0} simulated deploy agents, one release in three waves (canary, a region, all), HQ soak {soakSeconds} s");
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        await using var registry = await RegistryStub.StartAsync(cancellationToken);
        var url = $"http://127.0.0.1:{OutpostProcess.FreePort()}";
        List<string> arguments = ["central", "--urls", url, "--admin", $"{Admin}={AdminToken}", "--release-admin", Admin, "--insecure-registry", registry.Address];
        arguments.AddRange(postgres is null ? ["--data", _data] : ["--postgres", postgres + ";Maximum Pool Size=200"]);
        await using var hq = OutpostProcess.Start(arguments);
        using var admin = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        await hq.WaitUntilReadyAsync(admin, cancellationToken);
        var credentials = await HqBenchmark.RegisterAsync(admin, stores, "r" + _run, cancellationToken);
        output.WriteLine($"  HQ: process {hq.Id} on {url} ({(postgres is null ? "SQLite" : "PostgreSQL")}); {stores:N0} stores registered");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var agents = credentials.Select(c => new SimulatedAgent(new Uri(url), c)).ToList();
        var loops = agents.Select(a => Task.Run(() => a.RunAsync(stop.Token), CancellationToken.None)).ToList();
        for (var i = 0; i < 1200 && agents.Any(a => !a.Polling); i++)
        {
            await Task.Delay(100, cancellationToken);
        }

        output.WriteLine($"  {agents.Count(a => a.Polling):N0} agents holding long polls on HQ's down feed");
        await Task.Delay(2000, cancellationToken);

        var image = $"{registry.Address}/outpost@sha256:{new string('a', 64)}";
        using (var recorded = await admin.PostAsJsonAsync("admin/releases", new { version = "1.0.1", image, settings = new Dictionary<string, object> { ["Retail:Checkout:OfflineFloorLimit"] = 75 } }, cancellationToken))
        {
            recorded.EnsureSuccessStatusCode();
        }

        // Canary: ten stores; then one region (a twentieth of the fleet); then all.
        var canary = credentials.Take(Math.Min(10, stores)).Select(c => c.StoreId).ToArray();
        var usage = new ProcessUsage(hq);
        var clock = Stopwatch.StartNew();
        string rolloutId;
        using (var started = await admin.PostAsJsonAsync("admin/rollouts", new
        {
            release = "1.0.1",
            waves = new object[] { new { name = "canary", stores = canary }, new { name = "region-1", region = "region-1" }, new { name = "all", all = true } },
            soakSeconds,
            force = true,
        }, cancellationToken))
        {
            var body = await started.Content.ReadAsStringAsync(cancellationToken);
            if (!started.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"HQ refused the rollout: {body}");
            }

            rolloutId = JsonDocument.Parse(body).RootElement.GetProperty("rolloutId").GetString()!;
        }

        long peakRss = hq.ResidentBytes;
        string status = "Running";
        var waveDone = new List<double>();
        var limit = TimeSpan.FromMinutes(30);
        while (clock.Elapsed < limit)
        {
            await Task.Delay(500, cancellationToken);
            peakRss = Math.Max(peakRss, hq.ResidentBytes);
            using var list = JsonDocument.Parse(await admin.GetStringAsync("admin/rollouts", cancellationToken));
            var rollout = list.RootElement.EnumerateArray().Single(r => r.GetProperty("rolloutId").GetString() == rolloutId);
            status = rollout.GetProperty("status").GetString()!;
            var opened = rollout.GetProperty("wavesOpened").GetInt32();
            while (waveDone.Count < opened - 1)
            {
                waveDone.Add(clock.Elapsed.TotalSeconds);
            }

            if (status != "Running")
            {
                break;
            }
        }

        var elapsed = clock.Elapsed;
        var cpu = usage.CpuPercent;
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        if (status != "Completed")
        {
            throw new InvalidOperationException($"the rollout ended {status} after {elapsed.TotalSeconds:F0} s, not Completed");
        }

        var healthy = agents.Count(a => a.Healthy);
        // The floor: each wave waits for its agents' steps, then HQ's soak, then HQ's next tick at most; nothing faster is possible.
        var perWave = Download + Start + AgentSoak + TimeSpan.FromSeconds(soakSeconds);
        var floor = perWave * 3;
        var downBytes = agents.Sum(a => a.DownBytes) / (double)agents.Count;
        var upBytes = agents.Sum(a => a.UpBytes) / (double)agents.Count;
        output.WriteLine($"  rollout started -> all {healthy:N0} stores healthy, completed: {elapsed.TotalSeconds,7:F1} s   (floor {floor.TotalSeconds:F0} s: 3 waves x (agent {(Download + Start + AgentSoak).TotalSeconds:F0} s + HQ soak {soakSeconds} s); {elapsed / floor:F2}x the floor)");
        output.WriteLine($"    waves opened at {string.Join(", ", waveDone.Select(s => s.ToString("F1", CultureInfo.InvariantCulture) + " s"))}; HQ ticks every {Tick.TotalSeconds:F0} s, so each wave may wait up to one tick more");
        output.WriteLine($"  HQ while {stores:N0} agents poll and report: CPU {cpu,5:F1}% of one core, peak RSS {peakRss / 1048576.0:F0} MiB");
        output.WriteLine($"  per store and release: {downBytes:F0} bytes of down feed (the desired release and the empty long-poll answers), {upBytes:F0} bytes of reports up (3 steps, one request each), compressed, HTTP headers not counted");
        return new RolloutBenchResult
        {
            Stores = stores,
            SoakSeconds = soakSeconds,
            Database = postgres is null ? "sqlite" : "postgres",
            SecondsToAllHealthy = Math.Round(elapsed.TotalSeconds, 1),
            FloorSeconds = floor.TotalSeconds,
            RatioToFloor = Math.Round(elapsed / floor, 2),
            WavesOpenedAtSeconds = [.. waveDone.Select(s => Math.Round(s, 1))],
            HqCpuPercent = Math.Round(cpu, 1),
            HqPeakRssMiB = Math.Round(peakRss / 1048576.0),
            DownBytesPerStore = Math.Round(downBytes),
            UpBytesPerStore = Math.Round(upBytes),
        };
    }

    public void Cleanup()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    /// <summary>
    /// One store's deploy agent and replication, as they speak to HQ: a long poll on the store's down feed; on a desired
    /// release, the agent's steps, each an event in the store's own sequence sent up as the store's replication sends it.
    /// </summary>
    private sealed class SimulatedAgent(Uri hq, Central.Stores.IssuedCredential credential)
    {
        private readonly long[] _bytes = new long[2]; // sent, received
        private long _seq;

        public bool Polling { get; private set; }

        public bool Healthy { get; private set; }

        public long DownBytes => Interlocked.Read(ref _bytes[1]);

        public long UpBytes => Interlocked.Read(ref _bytes[0]);

        public async Task RunAsync(CancellationToken stop)
        {
            using var client = new SyncClient(new SyncClientOptions { Central = hq, StoreId = credential.StoreId, Secret = credential.Secret, RequestTimeout = TimeSpan.FromSeconds(60) },
                new ConnectivityMonitor(TimeProvider.System), new CountingHandler(_bytes)); // the client owns (and disposes) the handler
            var after = (await client.GetDownAsync(long.MaxValue / 2, TimeSpan.Zero, stop)).Head;
            Polling = true;
            var done = new HashSet<string>(StringComparer.Ordinal);
            while (!stop.IsCancellationRequested)
            {
                DownPage page;
                try
                {
                    page = await client.GetDownAsync(after, TimeSpan.FromSeconds(20), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(1000, CancellationToken.None);
                    continue;
                }

                after = page.Next;
                foreach (var e in page.Events.Where(e => e.Topic == RolloutEvents.DeployTopic && e.Key == credential.StoreId))
                {
                    var desired = JsonSerializer.Deserialize(e.Payload.Span, RolloutJsonContext.Default.DesiredReleaseV1)!;
                    if (done.Add(desired.RolloutId))
                    {
                        _ = Task.Run(() => StepsAsync(client, desired, stop), CancellationToken.None);
                    }
                }
            }
        }

        private async Task StepsAsync(SyncClient client, DesiredReleaseV1 desired, CancellationToken stop)
        {
            try
            {
                await ReportAsync(client, desired, DeploymentStep.Downloading, stop);
                await Task.Delay(Download, stop);
                await ReportAsync(client, desired, DeploymentStep.Starting, stop);
                await Task.Delay(Start + AgentSoak, stop);
                await ReportAsync(client, desired, DeploymentStep.Healthy, stop);
                Healthy = true;
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task ReportAsync(SyncClient client, DesiredReleaseV1 desired, DeploymentStep step, CancellationToken stop)
        {
            var seq = Interlocked.Increment(ref _seq);
            var node = NodeId.Parse(credential.StoreId);
            var report = new StoredEvent
            {
                Seq = seq,
                Topic = RolloutEvents.ProgressTopic,
                Type = RolloutEvents.DeploymentProgressed,
                Version = 1,
                Key = desired.RolloutId,
                Scope = Scope.Store(credential.StoreId),
                Origin = new EventOrigin(node, seq, HlcTimestamp.From(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0)),
                Payload = JsonSerializer.SerializeToUtf8Bytes(new DeploymentProgressedV1(desired.RolloutId, desired.Version, step, null), RolloutJsonContext.Default.DeploymentProgressedV1),
            };
            // As the store's replication does: sent again until HQ acknowledges it (HQ applies it once).
            for (var attempt = 0; attempt < 60; attempt++)
            {
                try
                {
                    await client.SendUpAsync([report], null, stop);
                    return;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(1000, stop);
                }
            }
        }
    }

    /// <summary>Counts the bytes of requests sent and responses received on the wire (compressed, as sent).</summary>
    private sealed class CountingHandler(long[] bytes) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is not null)
            {
                Interlocked.Add(ref bytes[0], (await request.Content.ReadAsByteArrayAsync(cancellationToken)).Length);
            }

            var response = await base.SendAsync(request, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            Interlocked.Add(ref bytes[1], response.Content.Headers.ContentLength ?? 0);
            return response;
        }
    }

    /// <summary>
    /// The registry as HQ sees it when a release is recorded: a HEAD on the manifest by digest, answered with that digest.
    /// (The bytes a store pulls per release are measured against a real registry by deploy/image/measure-pull.sh.)
    /// </summary>
    private sealed class RegistryStub(WebApplication app) : IAsyncDisposable
    {
        public string Address { get; } = new Uri(app.Urls.First()).Authority;

        public static async Task<RegistryStub> StartAsync(CancellationToken cancellationToken)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapMethods("/v2/{**path}", ["HEAD"], (HttpContext context, string path) =>
            {
                context.Response.Headers["Docker-Content-Digest"] = path.Split('/')[^1];
                return Results.Ok();
            });
            await app.StartAsync(cancellationToken);
            return new RegistryStub(app);
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}

/// <summary>What <c>outpost bench rollout</c> measured, written as JSON.</summary>
internal sealed record RolloutBenchResult() : BenchResult("rollout")
{
    public required int Stores { get; init; }

    public required int SoakSeconds { get; init; }

    public required string Database { get; init; }

    public required double SecondsToAllHealthy { get; init; }

    public required double FloorSeconds { get; init; }

    public required double RatioToFloor { get; init; }

    public required IReadOnlyList<double> WavesOpenedAtSeconds { get; init; }

    public required double HqCpuPercent { get; init; }

    public required double HqPeakRssMiB { get; init; }

    public required double DownBytesPerStore { get; init; }

    public required double UpBytesPerStore { get; init; }
}
