using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Sync.Protocol;

namespace Outpost.Sync.Agent;

/// <summary>
/// The store's replication agent: runs the up and down links for as long as the store runs, and records
/// each change of connectivity as a local event (topic <c>connectivity</c>) for the back office. It never
/// gives up and never needs a restart; nothing else in the store changes when the link drops.
/// </summary>
public sealed class ReplicationAgent : BackgroundService
{
    /// <summary>The local topic of connectivity changes.</summary>
    public const string ConnectivityTopic = "connectivity";

    /// <summary>The link to HQ changed state (topic <see cref="ConnectivityTopic"/>, local to the store).</summary>
    public const string ConnectivityChanged = "ConnectivityChanged";

    /// <summary>A damaged record was stepped over and not sent up (topic <see cref="ConnectivityTopic"/>).</summary>
    public const string RecordNotSent = "RecordNotSent";

    private readonly IEventLog _log;
    private readonly SyncClient _client;
    private readonly ConnectivityMonitor _monitor;
    private readonly SyncClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly Channel<ConnectivityStatus> _changes = Channel.CreateUnbounded<ConnectivityStatus>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Creates the agent.</summary>
    public ReplicationAgent(IEventLog log, SyncClient client, ConnectivityMonitor monitor, IOptions<SyncClientOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(options);
        _log = log;
        _client = client;
        _monitor = monitor;
        _options = options.Value;
        _time = time;
        _loggers = loggers;
        monitor.Changed += status => _changes.Writer.TryWrite(status);
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var up = new UpLink(_log, _client, _monitor, _options, _time, _loggers.CreateLogger<UpLink>());
        var down = new DownLink(_log, _client, _monitor, _options, _time, _loggers.CreateLogger<DownLink>());
        return Task.WhenAll(
            Task.Run(() => up.RunAsync(stoppingToken), stoppingToken),
            Task.Run(() => down.RunAsync(stoppingToken), stoppingToken),
            PublishChangesAsync(stoppingToken));
    }

    private async Task PublishChangesAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var status in _changes.Reader.ReadAllAsync(cancellationToken))
            {
                await _log.AppendAsync(new NewEvent
                {
                    Topic = ConnectivityTopic,
                    Type = ConnectivityChanged,
                    Key = "hq",
                    Scope = Scope.Store(_options.StoreId),
                    Payload = JsonSerializer.SerializeToUtf8Bytes(status, SyncJsonContext.Default.ConnectivityStatus),
                }, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
