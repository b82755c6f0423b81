using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Core.Log;

namespace Outpost.Sync.Hosting;

/// <summary>A node's health endpoints: live while the process runs; ready while its log serves records intact.</summary>
public static class LogHealth
{
    /// <summary>Maps <c>/health/live</c> and <c>/health/ready</c> (503 once a read met a corrupt record, and while the log's disk is full).</summary>
    public static IEndpointRouteBuilder MapLogHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Text("live"));
        app.MapGet("/health/ready", (IEventLog log, IServiceProvider services) => (log.CorruptRecordsSeen, services.GetService<IStorageHealth>()?.Problem ?? log.StorageProblem) switch
        {
            (> 0, _) => Results.Problem($"The log has met {log.CorruptRecordsSeen} corrupt record(s); they are not served or replicated. Run 'outpost log verify' on its file and restore the node.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Log damaged"),
            (_, { } full) => Results.Problem(full, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Disk full"),
            _ => Results.Text($"ready: log head {log.Head}"),
        });
        return app;
    }
}
