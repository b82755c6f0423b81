using System.Globalization;
using System.Text;

namespace Outpost.Retail.Checkout;

/// <summary>Printable receipts, 42 columns wide (a common receipt printer width).</summary>
public static class Receipt
{
    private const int Width = 42;

    /// <summary>The receipt of a sale.</summary>
    public static string Of(SaleCompletedV2 sale, string storeName)
    {
        ArgumentNullException.ThrowIfNull(sale);
        var text = new StringBuilder();
        Header(text, storeName, sale.StoreId, sale.TillId, sale.LocalTime, "Receipt " + sale.SaleId);
        foreach (var line in sale.Lines)
        {
            Row(text, Fit(line.Name, Width - 11), Amount(line.Amount));
            if (line.Quantity != 1)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {line.Quantity:0.###} x {line.UnitPrice:0.00}");
            }
        }

        foreach (var promotion in sale.Promotions)
        {
            Row(text, "  " + Fit(promotion.Name, Width - 13), Amount(-promotion.Saving));
        }

        text.AppendLine(new string('-', Width));
        Row(text, "Subtotal", Amount(sale.Subtotal));
        if (sale.Saving != 0)
        {
            Row(text, "You saved", Amount(sale.Saving));
        }

        Row(text, "TOTAL " + sale.Currency, Amount(sale.Total));
        foreach (var tender in sale.Tenders)
        {
            var label = tender.Kind switch
            {
                "card" => $"Card ****{tender.CardLast4}{(tender.Offline ? " (offline)" : string.Empty)}",
                "points" => $"Points ({tender.Points})",
                "deferred" => "Card on file (charged later)",
                _ => "Cash",
            };
            Row(text, label, Amount(tender.Tendered ?? tender.Amount));
        }

        if (sale.Change != 0)
        {
            Row(text, "Change", Amount(sale.Change));
        }

        foreach (var tax in sale.Taxes)
        {
            Row(text, $"Tax {tax.TaxClass} {tax.Rate * 100:0.##}% on {tax.Net:0.00}", Amount(tax.Tax));
        }

        if (sale.Member is { } member)
        {
            text.AppendLine();
            if (member.Known)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"Member {member.MemberId}: +{member.PointsEarned} points");
                if (member.PointsRedeemed > 0)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"Points redeemed: {member.PointsRedeemed}");
                }
            }
            else
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"Card {Mask(member.Presented)} is not yet known");
                text.AppendLine("in this store: HQ will add your points and");
                text.AppendLine("any personal offers to your account.");
            }
        }

        return text.ToString();
    }

    /// <summary>The slip of a return.</summary>
    public static string Of(ReturnCompletedV1 refund, DateTime localTime, string storeName)
    {
        ArgumentNullException.ThrowIfNull(refund);
        var text = new StringBuilder();
        Header(text, storeName, refund.StoreId, refund.TillId, localTime, "Return " + refund.ReturnId);
        text.AppendLine(refund.OriginalSaleId is { } sale ? "Receipt " + sale : "Without receipt");
        foreach (var line in refund.Lines)
        {
            Row(text, Fit($"{line.Quantity:0.###} x {line.Name}", Width - 11), Amount(-line.Paid));
        }

        text.AppendLine(new string('-', Width));
        var tender = refund.Tender.Kind == "card" ? $"card ****{refund.Tender.CardLast4}" : "cash";
        Row(text, $"REFUND {refund.Currency} ({tender})", Amount(refund.Refund));
        text.AppendLine("Reason: " + refund.Reason);
        if (refund.PointsReversed != 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Points taken back: {refund.PointsReversed}");
        }

        return text.ToString();
    }

    private static void Header(StringBuilder text, string storeName, string storeId, string tillId, DateTime localTime, string reference)
    {
        text.AppendLine(storeName);
        text.AppendLine(CultureInfo.InvariantCulture, $"Store {storeId}  Till {tillId}");
        text.AppendLine(localTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "  " + reference);
        text.AppendLine(new string('-', Width));
    }

    private static void Row(StringBuilder text, string label, string amount) =>
        text.Append(label).Append(' ', Math.Max(1, Width - label.Length - amount.Length)).AppendLine(amount);

    private static string Amount(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Fit(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    private static string Mask(string presented) => presented.Length <= 4 ? presented : new string('*', presented.Length - 4) + presented[^4..];
}
