using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Core.Postgres;
using Outpost.Sync.Hosting;

namespace Outpost.Central;

/// <summary>
/// HQ's answer to a request that failed inside: 503 with <c>Retry-After</c> when HQ's database cannot be reached
/// (PostgreSQL restarting, failing over, refusing connections), so that stores, tills of the back office and load
/// balancers wait and retry instead of reading a bug into it; a request HQ could not read (malformed JSON, a body too
/// large) gets its 4xx with what is wrong; 500 otherwise. All as ProblemDetails, none with an internal exception's text
/// (it is logged).
/// </summary>
public static class DatabaseOutage
{
    /// <summary>Seconds a client is told to wait before it retries while the database is unavailable.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>Whether <paramref name="error"/> says the database cannot be reached now, rather than that a request or HQ is wrong.</summary>
    public static bool IsOutage(Exception? error) => PostgresUnavailable.Is(error);

    /// <summary>The exception handler's response.</summary>
    public static async Task WriteErrorAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (BadRequests.Describe(error, "The request body is larger than HQ accepts.") is { } bad)
        {
            context.Response.StatusCode = bad.Status;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = bad.Status, Title = bad.Title, Detail = bad.Detail },
            });
            return;
        }

        var outage = IsOutage(error);
        if (outage && context.RequestServices.GetService<Outpost.Core.Log.IEventLog>() is PostgresEventLog log)
        {
            PostgresUnavailable.ForgetConnections(log.DataSource, error!);
        }

        var status = outage ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError;
        context.Response.StatusCode = status;
        if (outage)
        {
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = status,
                Title = outage ? "HQ's database is unavailable" : "HQ error",
                Detail = outage
                    ? $"HQ cannot reach its database just now (restarting or failing over); try again in {RetryAfterSeconds} s."
                    : "HQ could not do this; it is logged. Try again.",
            },
        });
    }
}
