using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;
using Outpost.Core.Log;
using Outpost.Core.Postgres;

namespace Outpost.Central.Stores;

/// <summary>
/// The stores' credentials as HQ last read them (hash, region, revoked), so a store's request is checked in memory:
/// after a price change thousands of held polls come back at once, and each would otherwise read the directory.
/// Every change of a credential (rotation, revocation) forgets the store's entry on every node before it can be
/// used again: on this node at once, on the others by a PostgreSQL notification sent in the transaction that
/// changes it. A node that is not listening (its connection dropped, or not yet made) does not use the cache and
/// forgets it all when it listens again, since it may have missed a change meanwhile. On SQLite HQ is one node, and
/// its own changes are all there are.
/// </summary>
internal sealed partial class CredentialCache : IAsyncDisposable
{
    /// <summary>The PostgreSQL channel a credential change is announced on; the payload is the store's id.</summary>
    public const string Channel = "outpost_stores";

    private readonly ConcurrentDictionary<string, Credential> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _watches = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly IEventLog _log;
    private readonly ILogger _logger;
    private readonly Task _listener;
    private long _generation;
    private int _disposed;
    private volatile bool _trusted;

    public CredentialCache(IEventLog log, ILogger logger)
    {
        _log = log;
        _logger = logger;
        Shared = log is PostgresEventLog;
        _trusted = !Shared;
        _listener = Shared ? Task.Run(ListenAsync) : Task.CompletedTask;
    }

    /// <summary>Whether other nodes may change credentials (the log is PostgreSQL's): changes are then announced.</summary>
    public bool Shared { get; }

    /// <summary>Moves on every change this node learns of: a read begun before a change does not fill the cache after it.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>The store's credential as last read, when the cache may be used.</summary>
    public Credential? Find(string storeId) => _trusted && _entries.TryGetValue(storeId, out var credential) ? credential : null;

    /// <summary>Keeps what a read found, unless a change was learnt of since the read began (<paramref name="generation"/>).</summary>
    public void Keep(string storeId, Credential credential, long generation)
    {
        lock (_gate)
        {
            if (_trusted && generation == _generation)
            {
                _entries[storeId] = credential;
            }
        }
    }

    /// <summary>Forgets a store's credential and ends its held requests: it changed, here or on another node.</summary>
    public void Forget(string storeId)
    {
        lock (_gate)
        {
            _generation++;
            _entries.TryRemove(storeId, out _);
        }

        EndWatch(storeId);
    }

    /// <summary>Ends the store's held requests; the source is not disposed: a request may still be linking to its token.</summary>
    private void EndWatch(string storeId)
    {
        if (_watches.TryRemove(storeId, out var watch))
        {
            watch.Cancel();
        }
    }

    /// <summary>Cancelled when the store's credential changes: a held poll ends then, and is checked again.</summary>
    public CancellationToken Watch(string storeId) =>
        _watches.GetOrAdd(storeId, _ => new CancellationTokenSource()).Token;

    private void ForgetAll(bool trusted)
    {
        lock (_gate)
        {
            _generation++;
            _entries.Clear();
            _trusted = trusted;
        }

        foreach (var storeId in _watches.Keys)
        {
            EndWatch(storeId);
        }
    }

    /// <summary>Listens for other nodes' changes; trusts the cache only while listening, and starts it empty each time.</summary>
    private async Task ListenAsync()
    {
        await PostgresListener.RunAsync(
            async closing => (NpgsqlConnection)await _log.OpenReadConnectionAsync(closing),
            Channel,
            Forget,
            (_, _) =>
            {
                // Listening from here on: what changed before is not in the (empty) cache.
                ForgetAll(trusted: true);
                return Task.CompletedTask;
            },
            null,
            Timeout.InfiniteTimeSpan,
            (ex, delay) =>
            {
                ForgetAll(trusted: false);
                Log.ListenFailed(_logger, ex, delay.TotalMilliseconds);
            },
            _closing.Token);
        _trusted = false;
    }

    public async ValueTask DisposeAsync()
    {
        // Registered as itself and as IStoreDirectory, the directory may be disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _closing.CancelAsync();
        await _listener;
        _closing.Dispose();
    }

    /// <summary>A store's credential: the SHA-256 of its secret, its region, and whether it is revoked.</summary>
    internal sealed record Credential(byte[] Hash, string Region, bool Revoked);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Listening for credential changes failed; stores are checked against the database until it works again (retrying in {DelayMs} ms).")]
        public static partial void ListenFailed(ILogger logger, Exception exception, double delayMs);
    }
}
