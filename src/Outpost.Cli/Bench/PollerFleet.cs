using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Outpost.Sync.Agent;

namespace Outpost.Cli.Bench;

/// <summary>
/// Simulated stores following HQ's down feed (the stream, as the agent does), spread over several processes of their own
/// (<c>outpost bench pollers</c>): one process cannot hold 20,000 sockets on a machine that caps each at 20,000 open
/// files, and the stores' work should not share the benchmark's thread pool. Each store polls as the agent does
/// (<see cref="SyncClient"/>, its own connection) and notes when each benchmark event reached it, by the machine's
/// monotonic clock, which every process on the machine shares.
/// </summary>
internal sealed class PollerFleet : IAsyncDisposable
{
    /// <summary>The prefix of the keys of the events the benchmark publishes: only those are noted.</summary>
    public const string KeyPrefix = "bench-";

    private const string Ready = "pollers ready";
    private readonly List<(OutpostProcess Process, string Receipts, TaskCompletionSource ReadySeen)> _processes = [];
    private readonly string _directory;

    private PollerFleet(string directory) => _directory = directory;

    /// <summary>What the stores' failed polls said, and how often (after <see cref="StopAsync"/>).</summary>
    public Dictionary<string, int> ErrorKinds { get; } = new(StringComparer.Ordinal);

    /// <summary>Polls that failed and were retried while the stores connected, before the measurement.</summary>
    public long ConnectRetries { get; private set; }

    /// <summary>The pollers' processes, for their CPU and memory.</summary>
    public IReadOnlyList<OutpostProcess> Processes => [.. _processes.Select(p => p.Process)];

    /// <summary>
    /// Starts the processes, store <c>i</c> polling node <c>i % nodes</c> from process <c>i % processes</c>, and
    /// waits (at most 3 minutes) until each has every store's poll held.
    /// </summary>
    public static async Task<PollerFleet> StartAsync(IReadOnlyList<(string StoreId, string Secret)> stores, IReadOnlyList<Uri> nodes, int processes, CancellationToken cancellationToken)
    {
        var fleet = new PollerFleet(Path.Combine(Path.GetTempPath(), "outpost-pollers-" + Guid.NewGuid().ToString("N")[..8]));
        Directory.CreateDirectory(fleet._directory);
        try
        {
            for (var p = 0; p < processes; p++)
            {
                var list = Path.Combine(fleet._directory, $"stores-{p}.txt");
                var receipts = Path.Combine(fleet._directory, $"receipts-{p}.txt");
                await File.WriteAllLinesAsync(list, stores.Select((s, i) => (s, i)).Where(x => x.i % processes == p)
                    .Select(x => $"{nodes[x.i % nodes.Count]} {x.s.StoreId} {x.s.Secret}"), cancellationToken);
                var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var process = OutpostProcess.Start(["bench", "pollers", "--stores", list, "--receipts", receipts], redirectInput: true,
                    onLine: line => { if (line == Ready) { ready.TrySetResult(); } });
                fleet._processes.Add((process, receipts, ready));
            }

            foreach (var (process, _, ready) in fleet._processes)
            {
                var exited = process.Process.WaitForExitAsync(cancellationToken);
                var first = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromMinutes(3), cancellationToken));
                if (first != ready.Task)
                {
                    throw new InvalidOperationException($"A pollers process did not hold its stores' polls within 3 minutes{(process.Process.HasExited ? $" (it exited with code {process.Process.ExitCode})" : "")}. Its last output:{Environment.NewLine}{process.Tail}");
                }
            }

            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops every process and returns, per event key, when it reached each store (monotonic timestamps), and the stores' poll errors.</summary>
    public async Task<(Dictionary<string, List<long>> Receipts, long Errors)> StopAsync(CancellationToken cancellationToken)
    {
        var receipts = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        var errors = 0L;
        ErrorKinds.Clear();
        foreach (var (process, _, _) in _processes)
        {
            await process.Process.StandardInput.WriteLineAsync("stop");
            await process.Process.StandardInput.FlushAsync(cancellationToken);
        }

        foreach (var (process, file, _) in _processes)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(1));
            await process.Process.WaitForExitAsync(timeout.Token);
            if (process.Process.ExitCode != 0 || !File.Exists(file))
            {
                throw new InvalidOperationException($"A pollers process failed (exit code {process.Process.ExitCode}). Its last output:{Environment.NewLine}{process.Tail}");
            }

            foreach (var line in await File.ReadAllLinesAsync(file, cancellationToken))
            {
                var parts = line.Split(' ');
                if (parts[0] == "error")
                {
                    var what = string.Join(' ', parts[2..]);
                    ErrorKinds[what] = ErrorKinds.GetValueOrDefault(what) + int.Parse(parts[1], CultureInfo.InvariantCulture);
                    continue;
                }

                if (parts[0] == "connecting")
                {
                    ConnectRetries += long.Parse(parts[1], CultureInfo.InvariantCulture);
                    continue;
                }

                if (parts[0] == "errors")
                {
                    errors += long.Parse(parts[1], CultureInfo.InvariantCulture);
                    continue;
                }

                if (!receipts.TryGetValue(parts[0], out var times))
                {
                    receipts[parts[0]] = times = [];
                }

                times.Add(long.Parse(parts[1], CultureInfo.InvariantCulture));
            }
        }

        return (receipts, errors);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (process, _, _) in _processes)
        {
            await process.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// The child's side (<c>outpost bench pollers</c>): holds a poll for every store in <paramref name="storesFile"/>
    /// (lines of <c>url store-id secret</c>), prints <c>pollers ready</c> once all are held, and on a <c>stop</c>
    /// line (or the end of its input) writes what it noted to <paramref name="receiptsFile"/> and exits.
    /// </summary>
    public static async Task<int> RunChildAsync(TextWriter output, string storesFile, string receiptsFile, CancellationToken cancellationToken)
    {
        var stores = (await File.ReadAllLinesAsync(storesFile, cancellationToken)).Where(l => l.Length > 0).Select(l => l.Split(' ')).ToList();
        var receipts = new ConcurrentQueue<(string Key, long At)>();
        var errors = 0L;
        var kinds = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var held = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loops = stores.Select(store => Task.Run(async () =>
        {
            using var client = new SyncClient(new SyncClientOptions { Central = new Uri(store[0]), StoreId = store[1], Secret = store[2], RequestTimeout = TimeSpan.FromSeconds(60) });
            long after = -1;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (after < 0)
                    {
                        // Start at HQ's head, as a store that is up to date does.
                        after = (await client.GetDownAsync(long.MaxValue / 2, TimeSpan.Zero, stop.Token)).Head;
                        Interlocked.Increment(ref held);
                    }

                    // As the agent follows HQ: the streamed down feed, a frame per change.
                    await foreach (var page in client.StreamDownAsync(after, TimeSpan.FromSeconds(25), stop.Token))
                    {
                        var now = Stopwatch.GetTimestamp();
                        foreach (var e in page.Events)
                        {
                            if (e.Key.StartsWith(KeyPrefix, StringComparison.Ordinal))
                            {
                                receipts.Enqueue((e.Key, now));
                            }
                        }

                        after = page.Next;
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or SyncRefusedException or IOException)
                {
                    // As the agent does: note it, wait a moment, poll again.
                    Interlocked.Increment(ref errors);
                    var what = $"{ex.GetType().Name}: {ex.Message}".ReplaceLineEndings(" ");
                    kinds.AddOrUpdate(what.Length > 160 ? what[..160] : what, 1, (_, n) => n + 1);
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1), stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }, CancellationToken.None)).ToList();

        // Held: every store has its position, and a moment later its long poll is waiting at HQ.
        for (var i = 0; i < 1800 && Volatile.Read(ref held) < stores.Count; i++)
        {
            await Task.Delay(100, cancellationToken);
        }

        await Task.Delay(1000, cancellationToken);

        // What failed while all of them connected at once (a listen queue overflowing, retried) is not the fan-out's.
        var connecting = Interlocked.Exchange(ref errors, 0);
        kinds.Clear();
        output.WriteLine(Ready);
        output.Flush();
        while (await Console.In.ReadLineAsync(cancellationToken) is { } line && line != "stop")
        {
        }

        await stop.CancelAsync();
        await Task.WhenAll(loops);
        await File.WriteAllLinesAsync(receiptsFile,
            receipts.Select(r => $"{r.Key} {r.At.ToString(CultureInfo.InvariantCulture)}")
                .Append($"errors {Interlocked.Read(ref errors).ToString(CultureInfo.InvariantCulture)}")
                .Append($"connecting {connecting.ToString(CultureInfo.InvariantCulture)}")
                .Concat(kinds.Select(k => $"error {k.Value.ToString(CultureInfo.InvariantCulture)} {k.Key}")), cancellationToken);
        return 0;
    }
}
