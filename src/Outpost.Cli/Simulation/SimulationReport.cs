using System.Globalization;
using System.Net;
using System.Text;

namespace Outpost.Cli.Simulation;

/// <summary>The verdict as one self-contained HTML page: the checks, and plots of the fleet's backlog, stores not online, memory and HQ's CPU over simulated time.</summary>
internal static class SimulationReport
{
    public static string Html(SimulationVerdict v)
    {
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Outpost simulation, seed {v.Seed}</title>
            <style>body{"{"}font:14px system-ui,sans-serif;margin:2em;max-width:60em{"}"} td,th{"{"}padding:.2em .8em;text-align:left{"}"} .bad{"{"}color:#b00020;font-weight:bold{"}"} .ok{"{"}color:#1b5e20;font-weight:bold{"}"} svg{"{"}background:#fafafa;border:1px solid #ddd{"}"}</style>
            </head><body>
            <h1>Simulation verdict: <span class="{(v.Passed ? "ok" : "bad")}">{(v.Passed ? "passed" : "FAILED")}</span></h1>
            <p><code>{WebUtility.HtmlEncode(v.Command)}</code></p>
            <table>
            <tr><th>stores × tills</th><td>{v.Stores} × {v.DevicesPerStore}{(v.StandIns > 0 ? $", and {v.StandIns:N0} stand-in stores" : "")}, {v.SimulatedHours} simulated hours</td></tr>
            <tr><th>sales</th><td>planned {v.Planned:N0}, acknowledged {v.Acknowledged:N0}, stored at HQ {v.StoredAtHq:N0}</td></tr>
            <tr><th>given up at a device</th><td class="{Mark(v.FailedAtDevice == 0)}">{v.FailedAtDevice} while the store was up; while its process was down ("try again"): {v.SalesWhileDown} sales, {v.OrdersWhileDown} orders, {v.StockCountsWhileDown} counts</td></tr>
            <tr><th>lost</th><td class="{Mark(v.Lost == 0)}">{v.Lost}</td></tr>
            <tr><th>applied twice</th><td class="{Mark(v.Doubled == 0)}">{v.Doubled}</td></tr>
            <tr><th>kiosk orders</th><td class="{Mark(v.OrdersLost == 0 && v.OrdersDoubled == 0)}">planned {v.OrdersPlanned:N0}, confirmed {v.OrdersAcknowledged:N0}, at HQ {v.OrdersAtHq:N0}; lost {v.OrdersLost}, placed twice {v.OrdersDoubled}</td></tr>
            <tr><th>stock counts, heartbeats</th><td class="{Mark(v.StockCountsLost == 0)}">counts planned {v.StockCountsPlanned:N0}, acknowledged {v.StockCountsAcknowledged:N0}, lost {v.StockCountsLost}; heartbeats at HQ {v.Heartbeats:N0}</td></tr>
            <tr><th>converged</th><td class="{Mark(v.Converged == v.Stores + v.StandIns)}">{v.Converged:N0} of {v.Stores + v.StandIns:N0}</td></tr>
            <tr><th>version skew</th><td class="{Mark(v.WrongVersion.Count == 0 && v.ParkedAtHq.Count == 0)}">{v.PreviousRelease:N0} stores on the previous release; sales at HQ {WebUtility.HtmlEncode(string.Join(", ", v.SalesAtHqByVersion.Select(p => $"{p.Key} {p.Value:N0}")))}; wrong version {v.WrongVersion.Count}, parked at HQ {v.ParkedAtHq.Count}</td></tr>
            <tr><th>HQ's read model = recount</th><td class="{Mark(v.ReadModelMismatches.Count == 0)}">{(v.ReadModelMismatches.Count == 0 ? "yes" : v.ReadModelMismatches.Count + " stores differ")}</td></tr>
            <tr><th>faults</th><td>{WebUtility.HtmlEncode(string.Join(", ", v.Faults.OrderBy(f => f.Key).Select(f => $"{f.Key} {f.Value}")))}</td></tr>
            <tr><th>catch-up after a fault</th><td>{(v.CatchUpSeconds.Count == 3 ? $"p50 {v.CatchUpSeconds[0]:F2} s, p99 {v.CatchUpSeconds[1]:F2} s, max {v.CatchUpSeconds[2]:F2} s (real)" : "none measured")}</td></tr>
            <tr><th>SIGKILLs of store processes</th><td>{v.Kills}{(v.KillRecoverySeconds.Count == 3 ? $", back online with nothing waiting after p50 {v.KillRecoverySeconds[0]:F2} s, max {v.KillRecoverySeconds[2]:F2} s" : "")}{(v.StartSeconds.Count == 3 ? $"; the process's start alone p50 {v.StartSeconds[0]:F2} s, max {v.StartSeconds[2]:F2} s" : "")}</td></tr>
            <tr><th>latency while connected</th><td>{(v.UpLatencySeconds.Count == 3 ? $"up p50 {v.UpLatencySeconds[0]:F3} s, p99 {v.UpLatencySeconds[1]:F3} s" : "up: no sample")}; {(v.DownLatencySeconds.Count == 3 ? $"down p50 {v.DownLatencySeconds[0]:F3} s, p99 {v.DownLatencySeconds[1]:F3} s" : "down: no sample")} (real)</td></tr>
            <tr><th>HQ's faults</th><td>{(v.HqRecoverySeconds.Count == 3 ? $"recovered after p50 {v.HqRecoverySeconds[0]:F2} s, max {v.HqRecoverySeconds[2]:F2} s (real)" : "none")}</td></tr>
            <tr><th>per simulated store-day</th><td>{(v.HqCpuSeconds is { } cpu ? $"HQ's CPU {cpu / v.StoreDays:F2} s, " : "")}HQ's database {v.HqDatabaseBytes / v.StoreDays / 1024:N0} KiB, on the wire {v.WireBytes / v.StoreDays / 1024:N0} KiB</td></tr>
            <tr><th>settled after the span</th><td>{v.SettleSeconds:F1} s</td></tr>
            </table>
            """);
        html.Append(Plot("Events waiting to go up, whole fleet", v.Samples, s => s.Backlog));
        html.Append(Plot("Stores not online", v.Samples, s => s.NotOnline));
        html.Append(Scatter("Catch-up after each link fault: real seconds until the store was online with nothing waiting, by the simulated hour the fault ended",
            [.. v.CatchUps.Select(c => (c.Hour, c.Seconds))], "simulated hours"));
        if (v.Restarts.Count > 0)
        {
            html.Append(Scatter("Each SIGKILL of a store process: real seconds from the kill until the store was online with nothing waiting, by the simulated hour of the kill",
                [.. v.Restarts.Select(r => (r.Hour, r.CaughtUpSeconds))], "simulated hours"));
        }
        html.Append(Plot("The simulation's process: resident memory (MiB)", v.Samples, s => s.ResidentMiB));
        if (v.HqCpuSeconds is not null)
        {
            html.Append(Plot("HQ's CPU, its nodes and PostgreSQL (% of one core)", v.Samples, s => s.HqCpuPercent));
            html.Append(Plot("HQ's nodes: resident memory together (MiB)", v.Samples, s => s.HqResidentMiB));
        }
        foreach (var line in v.NotConverged.Concat(v.ReadModelMismatches).Concat(v.WrongVersion).Concat(v.ParkedAtHq))
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"bad\">{WebUtility.HtmlEncode(line)}</p>");
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static string Mark(bool ok) => ok ? "ok" : "bad";

    private static string Plot(string title, IReadOnlyList<FleetSample> samples, Func<FleetSample, double> value) =>
        Plot(title, [.. samples.Select(s => (s.Hour, value(s)))], "simulated hours");

    /// <summary>A line through (x, y) points as an SVG, x from 0 to its largest, y from 0 to its largest.</summary>
    private static string Plot(string title, IReadOnlyList<(double X, double Y)> points, string xUnit)
    {
        const int Width = 800, Height = 200;
        if (points.Count < 2)
        {
            return "";
        }

        var maxX = Math.Max(points.Max(p => p.X), 1e-9);
        var maxY = Math.Max(points.Max(p => p.Y), 1);
        var line = string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.X / maxX * Width:F1},{Height - p.Y / maxY * Height:F1}")));
        return string.Create(CultureInfo.InvariantCulture, $"""
            <h2>{WebUtility.HtmlEncode(title)}</h2>
            <svg width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" role="img" aria-label="{WebUtility.HtmlEncode(title)}">
            <polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="{line}"/></svg>
            <p>0 to {maxY:N1}, over {maxX:F1} {xUnit}</p>

            """);
    }

    /// <summary>Points (x, y) as an SVG, x from 0 to its largest, y from 0 to its largest.</summary>
    private static string Scatter(string title, IReadOnlyList<(double X, double Y)> points, string xUnit)
    {
        const int Width = 800, Height = 200;
        if (points.Count == 0)
        {
            return "";
        }

        var maxX = Math.Max(points.Max(p => p.X), 1e-9);
        var maxY = Math.Max(points.Max(p => p.Y), 1);
        var dots = string.Concat(points.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"""<circle cx="{p.X / maxX * (Width - 6) + 3:F1}" cy="{Height - 3 - p.Y / maxY * (Height - 6):F1}" r="2.5" fill="#c62828"/>""")));
        return string.Create(CultureInfo.InvariantCulture, $"""
            <h2>{WebUtility.HtmlEncode(title)}</h2>
            <svg width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" role="img" aria-label="{WebUtility.HtmlEncode(title)}">{dots}</svg>
            <p>{points.Count} points, 0 to {maxY:N1} s, over {maxX:F1} {xUnit}</p>

            """);
    }

    /// <summary>The offline fortnight's verdict as one self-contained HTML page: the checks, and the stores' data day by day.</summary>
    public static string Html(OfflineVerdict v)
    {
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Outpost offline simulation, seed {v.Seed}</title>
            <style>body{"{"}font:14px system-ui,sans-serif;margin:2em;max-width:60em{"}"} td,th{"{"}padding:.2em .8em;text-align:left{"}"} .bad{"{"}color:#b00020;font-weight:bold{"}"} .ok{"{"}color:#1b5e20;font-weight:bold{"}"} svg{"{"}background:#fafafa;border:1px solid #ddd{"}"}</style>
            </head><body>
            <h1>{v.Days} days offline: <span class="{Mark(v.Passed)}">{(v.Passed ? "passed" : "FAILED")}</span></h1>
            <p><code>{WebUtility.HtmlEncode(v.Command)}</code></p>
            <table>
            <tr><th>stores</th><td>{v.Stores}, {v.SalesPerDay} sales a day each</td></tr>
            <tr><th>sales at HQ before the link returned</th><td class="{Mark(v.SalesAtHqBeforeReturn == 0)}">{v.SalesAtHqBeforeReturn}</td></tr>
            <tr><th>sales</th><td>acknowledged {v.Acknowledged:N0}, stored at HQ {v.StoredAtHq:N0}, failed at a till {v.FailedAtTill}</td></tr>
            <tr><th>lost, applied twice</th><td class="{Mark(v.Lost == 0 && v.Doubled == 0)}">{v.Lost}, {v.Doubled}</td></tr>
            <tr><th>prices of the day, dated promotion</th><td class="{Mark(v.WrongPrices.Count == 0 && v.WrongPromotions.Count == 0)}">{(v.WrongPrices.Count == 0 ? "every line right" : $"{v.WrongPrices.Count}+ lines wrong")}; {(v.WrongPromotions.Count == 0 ? "promotion on its days only" : $"{v.WrongPromotions.Count}+ sales wrong")}</td></tr>
            <tr><th>cards</th><td class="{Mark(v.CardOverFloorOrOnline == 0 && v.CardForwarded == v.CardOffline)}">{v.CardOffline:N0} approved offline, {v.CardRefusedAboveFloor:N0} refused above the floor limit, {v.CardOverFloorOrOnline} over it or online; {v.CardForwarded:N0} forwarded within {v.CardForwardedSeconds:F0} s</td></tr>
            <tr><th>a store's data per offline day</th><td>{v.DataBytesPerStoreDay / 1024 / 1024:F2} MiB; {WebUtility.HtmlEncode(string.Join("; ", v.Budgets))}</td></tr>
            <tr><th>catch-up (real seconds)</th><td>{string.Join(", ", v.CatchUpSeconds.Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))}; {v.CatchUpEventsPerSecond:N0} events a second into HQ</td></tr>
            </table>
            """);
        html.Append(Plot("A store's files at the end of each offline day (MiB)", [.. v.DataBytesByDay.Select((b, i) => ((double)(i + 1), b / 1024.0 / 1024))], "days"));
        foreach (var line in v.WrongPrices.Concat(v.WrongPromotions))
        {
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"bad\">{WebUtility.HtmlEncode(line)}</p>");
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }
}
