using System.Globalization;
using System.Text;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Telemetry;

namespace Outpost.Central.Fleet;

/// <summary>The figures of a store's latest health report that the fleet list, /metrics and the alerts read.</summary>
/// <param name="At">When the store measured them, by its clock.</param>
/// <param name="DiskFreeBytes">Free space on the disk holding its data.</param>
/// <param name="DiskSizeBytes">That disk's size.</param>
/// <param name="ParkedEvents">Events the store's read models parked.</param>
/// <param name="CpuPercent">The store server's CPU over the report's interval.</param>
/// <param name="ErrorsPerMinute">Server errors per minute over it.</param>
/// <param name="PaymentHost">The payment host as the terminal last found it.</param>
public sealed record StoreVitals(DateTimeOffset At, long DiskFreeBytes, long DiskSizeBytes, long ParkedEvents, double CpuPercent, double ErrorsPerMinute, string PaymentHost)
{
    /// <summary>Free space, in percent of the disk.</summary>
    public double DiskFreePercent => DiskSizeBytes > 0 ? Math.Round(100.0 * DiskFreeBytes / DiskSizeBytes, 1) : 0;
}

/// <summary>
/// Each store's latest health report at HQ (<c>StoreHealthReported</c>, every minute from each store): the whole
/// report for the store's page, and its key figures in columns for the fleet list, /metrics and the alerts. A report
/// older than the one held (a late arrival after an outage) changes nothing.
/// </summary>
public sealed class StoreHealthReports : IEventConsumer
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS hq_store_health(
            store           TEXT             PRIMARY KEY,
            at              BIGINT           NOT NULL,
            disk_free       BIGINT           NOT NULL,
            disk_size       BIGINT           NOT NULL,
            parked          BIGINT           NOT NULL,
            cpu_percent     DOUBLE PRECISION NOT NULL,
            errors_per_min  DOUBLE PRECISION NOT NULL,
            payment_host    TEXT             NOT NULL,
            report          TEXT             NOT NULL,
            changed_seq     BIGINT           NOT NULL)
        """;

    /// <inheritdoc />
    public string Name => "hq-store-health";

    /// <inheritdoc />
    public ReadFilter Filter { get; } = new() { Topics = [TelemetryEvents.Topic], Types = [TelemetryEvents.StoreHealthReported] };

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);
        if (e.Version != 1)
        {
            throw new NotSupportedException($"HQ's store health reads {e.Type} v1, not v{e.Version}; upgrade HQ to read it.");
        }

        var report = e.Deserialize(TelemetryJsonContext.Default.StoreHealthReportedV1);
        await transaction.ExecuteAsync("""
            INSERT INTO hq_store_health(store, at, disk_free, disk_size, parked, cpu_percent, errors_per_min, payment_host, report, changed_seq)
            VALUES(@store, @at, @free, @size, @parked, @cpu, @errors, @host, @report, @seq)
            ON CONFLICT(store) DO UPDATE SET at = excluded.at, disk_free = excluded.disk_free, disk_size = excluded.disk_size, parked = excluded.parked,
                cpu_percent = excluded.cpu_percent, errors_per_min = excluded.errors_per_min, payment_host = excluded.payment_host, report = excluded.report,
                changed_seq = excluded.changed_seq
            WHERE hq_store_health.at <= excluded.at
            """, cancellationToken, ("@store", e.Origin.Node.Value), ("@at", report.At.ToUnixTimeMilliseconds()), ("@free", report.DiskFreeBytes), ("@size", report.DiskSizeBytes),
            ("@parked", report.ParkedEvents), ("@cpu", report.CpuPercent), ("@errors", report.ErrorsPerMinute), ("@host", report.PaymentHost),
            ("@report", Encoding.UTF8.GetString(e.Payload.Span)), ("@seq", e.Seq));
    }

    /// <summary>Every store's latest figures (stores that never reported are absent).</summary>
    public static async Task<Dictionary<string, StoreVitals>> LatestAsync(IEventLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var vitals = new Dictionary<string, StoreVitals>(StringComparer.Ordinal);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT store, at, disk_free, disk_size, parked, cpu_percent, errors_per_min, payment_host FROM hq_store_health";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            vitals[reader.GetString(0)] = new StoreVitals(DateTimeOffset.FromUnixTimeMilliseconds(Long(reader.GetValue(1))), Long(reader.GetValue(2)), Long(reader.GetValue(3)),
                Long(reader.GetValue(4)), Convert.ToDouble(reader.GetValue(5), CultureInfo.InvariantCulture), Convert.ToDouble(reader.GetValue(6), CultureInfo.InvariantCulture),
                reader.GetString(7));
        }

        return vitals;
    }

    /// <summary>A store's latest whole report, or null if it never sent one.</summary>
    public static async Task<StoreHealthReportedV1?> ForStoreAsync(IEventLog log, string store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT report FROM hq_store_health WHERE store = @store";
        command.With("@store", store);
        return await command.ExecuteScalarAsync(cancellationToken) is string json
            ? System.Text.Json.JsonSerializer.Deserialize(json, TelemetryJsonContext.Default.StoreHealthReportedV1)
            : null;
    }

    private static long Long(object value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);
}
