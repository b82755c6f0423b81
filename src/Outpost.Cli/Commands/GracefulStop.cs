using System.Diagnostics;

namespace Outpost.Cli.Commands;

/// <summary>
/// Runs a started node until it is told to stop (SIGTERM from the container runtime, Ctrl+C, or the command's token),
/// then stops it in order and says so: Kestrel takes no new connections and finishes the requests in flight (a sale
/// being completed completes and is durable), SSE streams and held long polls end, background services (the sync
/// agent) stop, and the log closes last, committing what is queued and checkpointing its WAL into the file.
/// Everything has <see cref="Microsoft.Extensions.Hosting.HostOptions.ShutdownTimeout"/> to finish.
/// </summary>
internal static class GracefulStop
{
    public static async Task RunUntilStoppedAsync(WebApplication app, string name, TextWriter output, CancellationToken cancellationToken)
    {
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = 0L;
        using (lifetime.ApplicationStopping.Register(() =>
        {
            stopping = Stopwatch.GetTimestamp();
            output.WriteLine($"{name} stopping: no new requests, finishing those in flight");
        }))
        {
            await app.WaitForShutdownAsync(cancellationToken);
        }

        await app.DisposeAsync();
        var took = stopping == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(stopping);
        output.WriteLine($"{name} stopped cleanly in {took.TotalMilliseconds:0} ms");
    }
}
