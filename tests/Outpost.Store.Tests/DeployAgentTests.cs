using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Deploy;
using Outpost.Retail;
using Outpost.Store.Api;
using Outpost.Sync.Hosting;
using Outpost.Sync.Rollouts;

namespace Outpost.Store.Tests;

/// <summary>
/// The deploy agent's decisions against a real store server (its log on a real SQLite file, its /api/deploy) that the
/// runtime here replaces the way a container runtime would: stop the store server, start the release's one on the same
/// data folder and address, with the release's settings bound as the store binds its environment. (The podman and
/// Kubernetes runtimes have their own tests in Outpost.Deploy.Tests, with the agent for real in RolloutTests.)
/// </summary>
[Collection(OneHostMetrics.Name)]
public sealed class DeployAgentTests : IAsyncLifetime
{
    private const string Installed = "registry.example.com/outpost@sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-agent-tests", Guid.NewGuid().ToString("N"));
    private readonly ShiftedClock _clock = new();
    private WebApplication _store = null!;
    private string _url = "";
    private RestartingRuntime _runtime = null!;
    private DeployAgent _agent = null!;
    private HttpClient _http = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            _url = $"http://127.0.0.1:{((System.Net.IPEndPoint)probe.LocalEndpoint).Port}";
        }

        _store = await StartStoreAsync(new Dictionary<string, string>());
        _runtime = new RestartingRuntime(new RunningRelease("installed", Installed, new Dictionary<string, string>()), RestartAsync);
        using var admin = new HttpClient { BaseAddress = new Uri(_url) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", StoreServer.AdminToken);
        var enrolled = await (await admin.PostAsJsonAsync("/api/devices", new { name = "deploy agent", role = "agent" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var token = enrolled.GetProperty("token").GetString()!;
        _http = new HttpClient { BaseAddress = new Uri(_url + "/"), Timeout = TimeSpan.FromSeconds(10) };
        _agent = new DeployAgent(new DeployAgentOptions
        {
            Store = new Uri(_url + "/"),
            Token = token,
            StateDirectory = Path.Combine(_directory, "agent"),
            SoakTime = TimeSpan.FromSeconds(2),
            StartLimit = TimeSpan.FromSeconds(30),
            Time = _clock,
        }, _runtime, new StoreLink(_http, token), NullLogger<DeployAgent>.Instance);
        Directory.CreateDirectory(Path.Combine(_directory, "agent"));
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _store.StopAsync(CancellationToken.None);
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Outside_the_window_the_agent_downloads_and_waits_and_inside_it_applies_the_release_with_its_settings()
    {
        var image = "registry.example.com/outpost@sha256:" + new string('2', 64);
        _clock.SetLocal("Europe/Paris", new TimeOnly(10, 0));
        await ArriveAsync(new DesiredReleaseV1("r1", "1.0.1", image, new Dictionary<string, string> { ["Retail:Checkout:OfflineFloorLimit"] = "75" }, "canary",
            new MaintenanceWindow(new TimeOnly(2, 0), new TimeOnly(5, 0))));

        await _agent.TickAsync(Ct);
        await _agent.TickAsync(Ct); // still outside: says nothing more, does nothing more
        Assert.Contains(image, _runtime.Pulled);
        Assert.Empty(_runtime.Applied);
        Assert.Equal([DeploymentStep.Downloading, DeploymentStep.WaitingForWindow], await StepsAsync());
        Assert.Contains("02:00–05:00 Europe/Paris", (await ReportsAsync())[^1].Reason, StringComparison.Ordinal);
        Assert.Equal(50m, Retail().Checkout.OfflineFloorLimit);

        _clock.SetLocal("Europe/Paris", new TimeOnly(2, 30));
        await _agent.TickAsync(Ct);
        await _agent.TickAsync(Ct); // sends what the store could not take while it was being replaced
        Assert.Equal([DeploymentStep.Downloading, DeploymentStep.WaitingForWindow, DeploymentStep.Starting, DeploymentStep.Healthy], await StepsAsync());
        Assert.Equal("1.0.1", Assert.Single(_runtime.Applied).Version);
        Assert.Equal(75m, Retail().Checkout.OfflineFloorLimit); // the release's setting, bound as the store binds its environment
        Assert.Equal("1.0.1", _agent.State.Current!.Version);
        Assert.Empty(_agent.State.Outbox);

        await _agent.TickAsync(Ct); // done with it: nothing more
        Assert.Single(_runtime.Applied);
    }

    [Fact]
    public async Task A_configuration_only_release_goes_in_force_without_restarting_the_store_server()
    {
        var started = _store.Services.GetRequiredService<ProcessStart>().At;
        await ArriveAsync(new DesiredReleaseV1("r4", "1.0.0-config.1", Installed, new Dictionary<string, string> { ["Retail:Checkout:OfflineFloorLimit"] = "75" }, "canary", null));
        await _agent.TickAsync(Ct);
        Assert.Equal([DeploymentStep.Starting, DeploymentStep.Healthy], await StepsAsync());
        Assert.Contains("without a restart", (await ReportsAsync())[^1].Reason, StringComparison.Ordinal);
        Assert.Empty(_runtime.Applied);
        Assert.Equal(started, _store.Services.GetRequiredService<ProcessStart>().At);
        Assert.Equal(75m, _store.Services.GetRequiredService<StoreServices>().Retail.Checkout.Options.OfflineFloorLimit);
        Assert.Equal("1.0.0-config.1", _agent.State.Current!.Version);
    }

    [Fact]
    public async Task An_unhealthy_release_is_rolled_back_to_the_one_before_with_why()
    {
        var image = "registry.example.com/outpost@sha256:" + new string('3', 64);
        _runtime.CrashLoops[image] = 3;
        await ArriveAsync(new DesiredReleaseV1("r2", "1.0.2", image, new Dictionary<string, string>(), "canary", null));
        await _agent.TickAsync(Ct);
        await _agent.TickAsync(Ct);
        Assert.Equal([DeploymentStep.Downloading, DeploymentStep.Starting, DeploymentStep.RolledBack], await StepsAsync());
        Assert.Equal([image, Installed], _runtime.Applied.Select(r => r.Image));
        var reason = (await ReportsAsync())[^1].Reason!;
        Assert.Contains("crash loop", reason, StringComparison.Ordinal);
        Assert.Contains("restored", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_release_answering_more_server_errors_than_the_one_before_is_rolled_back_with_the_figures()
    {
        var image = "registry.example.com/outpost@sha256:" + new string('5', 64);
        _runtime.Erroring.Add(image);
        await ArriveAsync(new DesiredReleaseV1("r5", "1.0.5", image, new Dictionary<string, string>(), "canary", null));
        await _agent.TickAsync(Ct);
        await _agent.TickAsync(Ct);
        Assert.Equal([DeploymentStep.Downloading, DeploymentStep.Starting, DeploymentStep.RolledBack], await StepsAsync());
        Assert.Equal([image, Installed], _runtime.Applied.Select(r => r.Image));
        Assert.Matches(@"^server errors on \d+\.\d ?% of \d+ requests, against 0\.0 ?% before; .+ restored$", (await ReportsAsync())[^1].Reason!);
    }

    [Fact]
    public async Task A_release_that_migrated_the_data_is_not_rolled_back_past_the_migration_and_says_so()
    {
        var image = "registry.example.com/outpost@sha256:" + new string('4', 64);
        _runtime.CrashLoops[image] = 3;
        _runtime.Migrates.Add(image);
        await ArriveAsync(new DesiredReleaseV1("r3", "2.0.0", image, new Dictionary<string, string>(), "canary", null));
        await _agent.TickAsync(Ct);
        await _agent.TickAsync(Ct);
        Assert.Equal([DeploymentStep.Downloading, DeploymentStep.Starting, DeploymentStep.Failed], await StepsAsync());
        Assert.Equal([image], _runtime.Applied.Select(r => r.Image)); // the release before was not started on the migrated data
        var reason = (await ReportsAsync())[^1].Reason!;
        Assert.Contains("not rolled back: 2.0.0 migrated the store's data to version 2", reason, StringComparison.Ordinal);
        Assert.Equal(2, _agent.State.DataVersion);
    }

    private RetailOptions Retail() => _store.Services.GetRequiredService<StoreOptions>().Retail;

    private async Task<WebApplication> StartStoreAsync(IReadOnlyDictionary<string, string> settings, bool erroring = false)
    {
        var options = new StoreOptions
        {
            StoreId = "s-042",
            Region = "north",
            TimeZone = "Europe/Paris",
            DataDirectory = _directory,
            Urls = _url,
            AdminToken = StoreServer.AdminToken,
        };
        // As `outpost store` binds OUTPOST_STORE_Retail__… over its settings file.
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build().Bind(options);
        var app = StoreHost.Build(options, erroring ? builder => builder.Services.AddSingleton<IStartupFilter, Broken>() : null);
        await app.StartAsync(Ct);
        return app;
    }

    private async Task RestartAsync(RunningRelease release, RestartingRuntime runtime)
    {
        await _store.StopAsync(CancellationToken.None);
        await _store.DisposeAsync();
        var erroring = runtime.Erroring.Contains(release.Image);
        _store = await StartStoreAsync(release.Settings, erroring);
        if (runtime.Migrates.Contains(release.Image))
        {
            // What a release with a newer log schema does to the store's data when it starts.
            using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "store.db")};Pooling=false");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 2";
            command.ExecuteNonQuery();
        }

        if (erroring)
        {
            // Its devices get server errors: 60 requests, all answered 500, before the agent begins to watch it.
            using var device = new HttpClient { BaseAddress = new Uri(_url) };
            for (var i = 0; i < 60; i++)
            {
                Assert.Equal(System.Net.HttpStatusCode.InternalServerError, (await device.GetAsync("/api/broken", Ct)).StatusCode);
            }
        }
    }

    private async Task ArriveAsync(DesiredReleaseV1 desired) =>
        await _store.Services.GetRequiredService<IEventLog>().AppendAsync(new NewEvent
        {
            Topic = RolloutEvents.DeployTopic,
            Type = RolloutEvents.DesiredRelease,
            Key = "s-042",
            Scope = Scope.Store("s-042"),
            Payload = NewEvent.Json(desired, RolloutJsonContext.Default.DesiredReleaseV1),
        }, Ct);

    private async Task<List<DeploymentProgressedV1>> ReportsAsync() =>
        [.. (await _store.Services.GetRequiredService<IEventLog>().ReadAllAsync(new ReadFilter { Topics = [RolloutEvents.ProgressTopic] }, cancellationToken: Ct))
            .Select(e => e.Deserialize(RolloutJsonContext.Default.DeploymentProgressedV1))];

    private async Task<List<DeploymentStep>> StepsAsync() => [.. (await ReportsAsync()).Select(r => r.Step)];

    /// <summary>A build whose <c>/api/broken</c> fails every time with a server error, as a faulty release would.</summary>
    private sealed class Broken : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, following) =>
            {
                if (context.Request.Path == "/api/broken")
                {
                    context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    return;
                }

                await following(context);
            });
            next(app);
        };
    }

    /// <summary>
    /// A runtime that replaces the store server in this process: pulls are remembered, an apply restarts the store with
    /// the release's settings (raises the data's version for a release in <see cref="Migrates"/>; answers server errors
    /// for a release in <see cref="Erroring"/>), and the restarts
    /// of a release in <see cref="CrashLoops"/> are what a crash-looping container would show.
    /// </summary>
    private sealed class RestartingRuntime(RunningRelease installed, Func<RunningRelease, RestartingRuntime, Task> restart) : IStoreRuntime
    {
        private RunningRelease _current = installed;

        public List<RunningRelease> Applied { get; } = [];

        public HashSet<string> Pulled { get; } = [installed.Image]; // what runs is in the image store

        public Dictionary<string, int> CrashLoops { get; } = [];

        public HashSet<string> Migrates { get; } = [];

        public HashSet<string> Erroring { get; } = [];

        public string Name => "in-process";

        public Task<bool> HasImageAsync(string image, CancellationToken cancellationToken) => Task.FromResult(Pulled.Contains(image));

        public Task PullAsync(string image, CancellationToken cancellationToken)
        {
            Pulled.Add(image);
            return Task.CompletedTask;
        }

        public async Task ApplyAsync(RunningRelease release, CancellationToken cancellationToken)
        {
            Applied.Add(release);
            _current = release;
            await restart(release, this);
        }

        public Task<RunningRelease> CurrentAsync(CancellationToken cancellationToken) => Task.FromResult(_current);

        public Task<int> RestartsAsync(CancellationToken cancellationToken) => Task.FromResult(CrashLoops.GetValueOrDefault(_current.Image));
    }

    /// <summary>The system clock shifted so that a store's local time of day is what the test says (timers run in real time).</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        private TimeSpan _shift;

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + _shift;

        public void SetLocal(string zone, TimeOnly local)
        {
            var now = base.GetUtcNow();
            var here = TimeZoneInfo.ConvertTime(now, TimeZoneInfo.FindSystemTimeZoneById(zone));
            var wanted = here.Date + local.ToTimeSpan();
            _shift = wanted - here.DateTime;
        }
    }
}
