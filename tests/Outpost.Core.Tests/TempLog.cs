using Microsoft.Extensions.Time.Testing;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Core.Topics;

namespace Outpost.Core.Tests;

/// <summary>A real SQLite log in a fresh temp directory, deleted at the end.</summary>
internal sealed class TempLog : IAsyncDisposable
{
    private TempLog(string directory, LogOptions options)
    {
        Directory = directory;
        Options = options;
        Log = SqliteEventLog.Open(options);
    }

    public string Directory { get; }

    public LogOptions Options { get; }

    public SqliteEventLog Log { get; private set; }

    public string Path => Options.Path;

    public static TempLog Create(string node = "store-1", TimeProvider? time = null, TopicCatalog? topics = null, LogDurability durability = LogDurability.Full)
    {
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "outpost-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        return new TempLog(directory, new LogOptions
        {
            Path = System.IO.Path.Combine(directory, "log.db"),
            NodeId = node,
            Time = time ?? new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero)),
            Topics = topics ?? TopicCatalog.Empty,
            Durability = durability,
        });
    }

    /// <summary>Closes and opens the log again, as a restart would.</summary>
    public async Task ReopenAsync(TimeProvider? time = null)
    {
        await Log.DisposeAsync();
        if (time is not null)
        {
            Options.Time = time;
        }

        Log = SqliteEventLog.Open(Options);
    }

    public async Task CloseAsync() => await Log.DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static NewEvent Event(string topic = "sales", string key = "k1", string json = """{"total":"9.99"}""", Scope? scope = null, EventOrigin? origin = null, string type = "SaleCompleted") => new()
    {
        Topic = topic,
        Type = type,
        Key = key,
        Scope = scope ?? Scope.All,
        Payload = System.Text.Encoding.UTF8.GetBytes(json),
        Origin = origin,
    };

    public async Task<List<StoredEvent>> ReadAllAsync(ReadFilter? filter = null)
    {
        var all = new List<StoredEvent>();
        long after = 0;
        while (true)
        {
            var page = await Log.ReadAsync(after, filter ?? ReadFilter.All, 500, TestContext.Current.CancellationToken);
            all.AddRange(page.Events);
            if (page.Events.Count < 500)
            {
                return all;
            }

            after = page.ScannedTo;
        }
    }
}
