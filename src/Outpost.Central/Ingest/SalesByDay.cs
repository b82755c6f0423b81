using System.Globalization;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Checkout;

namespace Outpost.Central.Ingest;

/// <summary>A store's trading day at HQ.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Day">Its business day (store-local date of the sales).</param>
/// <param name="Currency">The currency of its amounts.</param>
/// <param name="Sales">Completed sales.</param>
/// <param name="Subtotal">Lines at shelf prices.</param>
/// <param name="Saving">Promotion savings.</param>
/// <param name="Total">What customers paid.</param>
/// <param name="Returns">Returns.</param>
/// <param name="Refunded">What returns refunded.</param>
public sealed record StoreDay(string StoreId, string Day, string Currency, long Sales, decimal Subtotal, decimal Saving, decimal Total, long Returns, decimal Refunded);

/// <summary>
/// Sales by store and business day, from the stores' <c>SaleCompleted</c> and <c>ReturnCompleted</c> events, each
/// applied once (the checkpoint commits with the totals). The store is the event's origin, never a field a payload
/// could claim. Newer versions of those types are parked until HQ is upgraded; other types are skipped.
/// </summary>
public sealed class SalesByDay : IEventConsumer
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS hq_sales_daily(
            store          TEXT   NOT NULL,
            day            TEXT   NOT NULL,
            currency       TEXT   NOT NULL,
            sales          BIGINT NOT NULL,
            subtotal_milli BIGINT NOT NULL,
            saving_milli   BIGINT NOT NULL,
            total_milli    BIGINT NOT NULL,
            returns        BIGINT NOT NULL,
            refunded_milli BIGINT NOT NULL,
            PRIMARY KEY(store, day))
        """;

    /// <inheritdoc />
    /// <summary>Its name as a consumer (its checkpoint is <c>consumer:hq-sales-daily</c>).</summary>
    public const string ConsumerName = "hq-sales-daily";

    public string Name => ConsumerName;

    /// <inheritdoc />
    public ReadFilter Filter { get; } = new() { Topics = [CheckoutEvents.SalesTopic], Types = [CheckoutEvents.SaleCompleted, CheckoutEvents.ReturnCompleted] };

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        var store = e.Origin.Node.Value;
        switch (e.Type, e.Version)
        {
            case (CheckoutEvents.SaleCompleted, <= CheckoutEvents.SaleCompletedVersion):
                // The store's business day (version 2); a version 1 sale's is the date of its store-local time.
                var sale = CheckoutEvents.ReadSaleCompleted(e);
                await AddAsync(transaction, store, sale.BusinessDay.ToDateTime(TimeOnly.MinValue), sale.Currency, 1, sale.Subtotal, sale.Saving, sale.Total, 0, 0, cancellationToken);
                break;
            case (CheckoutEvents.ReturnCompleted, 1):
                var refund = e.Deserialize(CheckoutJsonContext.Default.ReturnCompletedV1);
                await AddAsync(transaction, store, refund.ReturnedAt.UtcDateTime, refund.Currency, 0, 0, 0, 0, 1, refund.Refund, cancellationToken);
                break;
            case (CheckoutEvents.SaleCompleted or CheckoutEvents.ReturnCompleted, _):
                throw new NotSupportedException($"HQ's sales read model reads SaleCompleted v1 and v2 and ReturnCompleted v1, not {e.Type} v{e.Version}; upgrade HQ to read it.");
        }
    }

    /// <summary>The days of one store or of all, between two days inclusive (<c>yyyy-MM-dd</c>), newest first.</summary>
    public static async Task<IReadOnlyList<StoreDay>> QueryAsync(IEventLog log, string? store, string from, string to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        await using var connection = await log.OpenReadConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT store, day, currency, sales, subtotal_milli, saving_milli, total_milli, returns, refunded_milli FROM hq_sales_daily
            WHERE day >= @from AND day <= @to
            """ + (store is null ? "" : " AND store = @store") + " ORDER BY day DESC, store";
        command.With("@from", from).With("@to", to);
        if (store is not null)
        {
            command.With("@store", store);
        }

        var days = new List<StoreDay>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            days.Add(new StoreDay(reader.GetString(0), reader.GetString(1), reader.GetString(2), Long(reader, 3), HqAmounts.FromMilli(Long(reader, 4)),
                HqAmounts.FromMilli(Long(reader, 5)), HqAmounts.FromMilli(Long(reader, 6)), Long(reader, 7), HqAmounts.FromMilli(Long(reader, 8))));
        }

        return days;
    }

    private static long Long(System.Data.Common.DbDataReader reader, int column) => Convert.ToInt64(reader.GetValue(column), CultureInfo.InvariantCulture);

    private static async Task AddAsync(ILogTransaction tx, string store, DateTime localTime, string currency, long sales, decimal subtotal, decimal saving, decimal total,
        long returns, decimal refunded, CancellationToken cancellationToken) =>
        await tx.ExecuteAsync("""
            INSERT INTO hq_sales_daily(store, day, currency, sales, subtotal_milli, saving_milli, total_milli, returns, refunded_milli)
            VALUES(@store, @day, @currency, @sales, @subtotal, @saving, @total, @returns, @refunded)
            ON CONFLICT(store, day) DO UPDATE SET
                sales = hq_sales_daily.sales + excluded.sales,
                subtotal_milli = hq_sales_daily.subtotal_milli + excluded.subtotal_milli,
                saving_milli = hq_sales_daily.saving_milli + excluded.saving_milli,
                total_milli = hq_sales_daily.total_milli + excluded.total_milli,
                returns = hq_sales_daily.returns + excluded.returns,
                refunded_milli = hq_sales_daily.refunded_milli + excluded.refunded_milli
            """, cancellationToken,
            ("@store", store), ("@day", localTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), ("@currency", currency), ("@sales", sales),
            ("@subtotal", HqAmounts.ToMilli(subtotal)), ("@saving", HqAmounts.ToMilli(saving)), ("@total", HqAmounts.ToMilli(total)), ("@returns", returns),
            ("@refunded", HqAmounts.ToMilli(refunded)));
}
