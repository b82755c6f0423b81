using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Core.Log;

namespace Outpost.Sync.Hosting;

/// <summary>A node's health endpoints: live while the process runs; ready while its log serves records intact.</summary>
public static class LogHealth
{
    /// <summary>
    /// Maps <c>/health/live</c> and <c>/health/ready</c>: 503 while the log's disk is full. A damaged record does not make a
    /// node unready: every reader steps over it (the up link, the read models, the live feed) and it is reported (the
    /// store's status and HQ's fleet view, dead letters, the metric), so taking the node out of its Service would only
    /// stop its tills for a record they do not need; the answer names it.
    /// </summary>
    public static IEndpointRouteBuilder MapLogHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Text("live")).Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithName("Live").WithSummary("Whether the process answers.");
        app.MapGet("/health/ready", (IEventLog log, IServiceProvider services) => (services.GetService<IStorageHealth>()?.Problem ?? log.StorageProblem) switch
        {
            { } full => Results.Problem(full, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Disk full"),
            _ when log.CorruptRecordsSeen > 0 => Results.Text(
                $"ready: log head {log.Head}; reads met {log.CorruptRecordsSeen} damaged record(s), stepped over and never served or replicated: run 'outpost log verify' on the log"),
            _ => Results.Text($"ready: log head {log.Head}"),
        }).Produces<string>(StatusCodes.Status200OK, "text/plain").ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithName("Ready").WithSummary("Whether the node can take work: its log's head, or why not (503).");
        return app;
    }
}
