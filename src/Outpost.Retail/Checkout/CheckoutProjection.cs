using System.Globalization;
using System.Text.Json;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;

namespace Outpost.Retail.Checkout;

/// <summary>
/// The checkout context's read model: completed sales by idempotency key (for retried completions and returns
/// with a receipt), quantities returned per sale line, and offline card approvals still to forward.
/// </summary>
public sealed class CheckoutProjection : IEventConsumer
{
    /// <summary>The consumer's name, which names its checkpoint.</summary>
    public const string ConsumerName = "checkout";

    /// <inheritdoc />
    public string Name => ConsumerName;

    /// <inheritdoc />
    public ReadFilter Filter { get; } = ReadFilter.ForTopics(CheckoutEvents.SalesTopic, CheckoutEvents.PaymentsTopic);

    /// <summary>Creates the context's tables if needed (the baskets are in their own file: <see cref="BasketStore"/>).</summary>
    public static Task CreateTablesAsync(IEventLog log, CancellationToken cancellationToken) => log.CreateTablesAsync("""
            CREATE TABLE IF NOT EXISTS checkout_sales(
                sale_id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL, basket_id TEXT NOT NULL, seq INTEGER NOT NULL, sale TEXT NOT NULL) WITHOUT ROWID;
            CREATE UNIQUE INDEX IF NOT EXISTS checkout_sales_by_key ON checkout_sales(idempotency_key);
            CREATE TABLE IF NOT EXISTS checkout_returned(
                sale_id TEXT NOT NULL, line_no INTEGER NOT NULL, quantity TEXT NOT NULL, PRIMARY KEY(sale_id, line_no)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS checkout_offline(
                sale_id TEXT NOT NULL, card_token TEXT NOT NULL, auth_code TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
                forwarded INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(sale_id, auth_code)) WITHOUT ROWID;
            """, cancellationToken);

    /// <inheritdoc />
    public async ValueTask HandleAsync(StoredEvent e, ILogTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(transaction);
        switch (e.Type, e.Version)
        {
            case (CheckoutEvents.SaleCompleted, <= CheckoutEvents.SaleCompletedVersion):
                var sale = CheckoutEvents.ReadSaleCompleted(e);
                await transaction.ExecuteAsync("""
                    INSERT OR IGNORE INTO checkout_sales(sale_id, idempotency_key, basket_id, seq, sale) VALUES($id, $key, $basket, $seq, $sale)
                    """, cancellationToken, ("$id", sale.SaleId), ("$key", sale.IdempotencyKey), ("$basket", sale.BasketId), ("$seq", e.Seq),
                    ("$sale", System.Text.Encoding.UTF8.GetString(e.Payload.Span)));
                foreach (var tender in sale.Tenders.Where(t => t.Offline))
                {
                    await transaction.ExecuteAsync("""
                        INSERT OR IGNORE INTO checkout_offline(sale_id, card_token, auth_code, amount, currency) VALUES($id, $token, $code, $amount, $currency)
                        """, cancellationToken, ("$id", sale.SaleId), ("$token", tender.CardToken), ("$code", tender.AuthCode),
                        ("$amount", tender.Amount.ToString(CultureInfo.InvariantCulture)), ("$currency", sale.Currency));
                }

                break;
            case (CheckoutEvents.ReturnCompleted, 1):
                var returned = e.Deserialize(CheckoutJsonContext.Default.ReturnCompletedV1);
                if (returned.OriginalSaleId is null)
                {
                    return;
                }

                foreach (var line in returned.Lines)
                {
                    await transaction.ExecuteAsync("INSERT OR IGNORE INTO checkout_returned(sale_id, line_no, quantity) VALUES($id, $no, '0')", cancellationToken,
                        ("$id", returned.OriginalSaleId), ("$no", line.No));
                    await AddReturnedAsync(transaction, returned.OriginalSaleId, line.No, line.Quantity, cancellationToken);
                }

                break;
            case (CheckoutEvents.OfflineApprovalForwarded, 1):
                var forwarded = e.Deserialize(CheckoutJsonContext.Default.OfflineApprovalForwardedV1);
                await transaction.ExecuteAsync("UPDATE checkout_offline SET forwarded = 1 WHERE sale_id = $id AND card_token = $token", cancellationToken,
                    ("$id", forwarded.SaleId), ("$token", forwarded.CardToken));
                break;
            case (CheckoutEvents.SaleVoided, 1):
                return;
            case (CheckoutEvents.SaleCompleted or CheckoutEvents.ReturnCompleted or CheckoutEvents.OfflineApprovalForwarded or CheckoutEvents.SaleVoided, _):
                throw new NotSupportedException($"The checkout context reads SaleCompleted v1 and v2, SaleVoided, ReturnCompleted and OfflineApprovalForwarded v1, not {e.Type} v{e.Version}; upgrade this node to read it.");
            default:
                return; // another context's type on this topic, or one newer software added: not this read model's
        }
    }

    private static async Task AddReturnedAsync(ILogTransaction transaction, string saleId, int lineNo, decimal quantity, CancellationToken cancellationToken)
    {
        await using var read = transaction.CreateCommand("SELECT quantity FROM checkout_returned WHERE sale_id = $id AND line_no = $no");
        read.With("$id", saleId).With("$no", lineNo);
        var before = await read.ExecuteScalarAsync(cancellationToken) is string text ? decimal.Parse(text, CultureInfo.InvariantCulture) : 0m;
        await transaction.ExecuteAsync("UPDATE checkout_returned SET quantity = $quantity WHERE sale_id = $id AND line_no = $no", cancellationToken,
            ("$id", saleId), ("$no", lineNo), ("$quantity", (before + quantity).ToString(CultureInfo.InvariantCulture)));
    }


    /// <summary>
    /// A sale as the read model keeps it: the payload as written, version 1 (the previous release's, or a store writing
    /// its versions) or 2. Version 1 has no business day: read as version 2 with the business day of its store-local
    /// date, as <see cref="CheckoutEvents.ReadSaleCompleted"/> does.
    /// </summary>
    internal static SaleCompletedV2 ReadSale(string json)
    {
        var sale = JsonSerializer.Deserialize(json, CheckoutJsonContext.Default.SaleCompletedV2)!;
        return sale.BusinessDay == default ? sale with { BusinessDay = DateOnly.FromDateTime(sale.LocalTime) } : sale;
    }
}
