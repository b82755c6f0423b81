using System.Diagnostics;

namespace Outpost.Store.Api;

/// <summary>
/// How long the store server took to answer, per endpoint group, over each health interval: the 99th percentile per
/// group (<c>baskets</c>, <c>products</c>, <c>orders</c>, …: the path's segment after <c>/api/</c>), the requests and
/// the server errors. The live feed (a stream that stays open) is left out. Each group keeps at most
/// <see cref="MaxSamples"/> times an interval (a uniform sample of them past that), so a busy minute costs a fixed amount of memory.
/// </summary>
public sealed class RequestTimings
{
    /// <summary>Times kept per group and interval.</summary>
    public const int MaxSamples = 4096;

    private readonly Lock _gate = new();
    private Dictionary<string, (List<double> Samples, long Seen)> _groups = new(StringComparer.Ordinal);
    private long _requests;
    private long _errors;

    /// <summary>The group a request's path belongs to, or null for one not timed (the live feed).</summary>
    public static string? GroupOf(PathString path)
    {
        var value = path.Value ?? "/";
        if (value.StartsWith("/api/feed", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!value.StartsWith("/api/", StringComparison.OrdinalIgnoreCase))
        {
            var first = value.TrimStart('/').Split('/', 2)[0];
            return first is "metrics" or "health" or "openapi" ? first : "pages";
        }

        var segment = value[5..].Split('/', 2)[0].ToLowerInvariant();
        return segment.Length == 0 ? "api" : segment;
    }

    /// <summary>Times requests (after the exception handler, so an exception counts as the 500 it becomes).</summary>
    public async Task MiddlewareAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var group = GroupOf(context.Request.Path);
        if (group is null)
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var failed = false;
        try
        {
            await next(context);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            Record(group, Stopwatch.GetElapsedTime(started).TotalMilliseconds, failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode);
        }
    }

    /// <summary>Records one answered request.</summary>
    public void Record(string group, double milliseconds, int status)
    {
        lock (_gate)
        {
            _requests++;
            if (status >= 500)
            {
                _errors++;
            }

            var (samples, seen) = _groups.TryGetValue(group, out var kept) ? kept : ([], 0);
            seen++;
            if (samples.Count < MaxSamples)
            {
                samples.Add(milliseconds);
            }
            else if (Random.Shared.NextInt64(seen) < MaxSamples)
            {
                samples[Random.Shared.Next(MaxSamples)] = milliseconds; // reservoir: every request equally likely to be kept
            }

            _groups[group] = (samples, seen);
        }
    }

    /// <summary>What the interval since the last call saw, and a fresh start.</summary>
    public (long Requests, long Errors, IReadOnlyDictionary<string, double> P99Milliseconds) Drain()
    {
        Dictionary<string, (List<double> Samples, long Seen)> groups;
        long requests, errors;
        lock (_gate)
        {
            (groups, requests, errors) = (_groups, _requests, _errors);
            (_groups, _requests, _errors) = (new(StringComparer.Ordinal), 0, 0);
        }

        var p99 = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (group, (samples, _)) in groups)
        {
            samples.Sort();
            p99[group] = Math.Round(samples[Math.Max(0, (int)Math.Ceiling(samples.Count * 0.99) - 1)], 2);
        }

        return (requests, errors, p99);
    }
}
