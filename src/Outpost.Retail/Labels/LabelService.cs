using System.Globalization;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;

namespace Outpost.Retail.Labels;

/// <summary>A shelf label.</summary>
/// <param name="Gtin">The product.</param>
/// <param name="Name">Its name.</param>
/// <param name="Unit"><c>each</c> or <c>kg</c>.</param>
/// <param name="Price">The label price (one unit, or one kilogram, with the promotions that apply to it alone).</param>
/// <param name="ShelfPrice">The price before promotions.</param>
/// <param name="Currency">ISO 4217 code.</param>
/// <param name="Promotions">Promotion names to print.</param>
/// <param name="PrintedPrice">The price on the label on the shelf (null: never printed).</param>
public sealed record ShelfLabel(string Gtin, string Name, string Unit, decimal Price, decimal ShelfPrice, string Currency, IReadOnlyList<string> Promotions, decimal? PrintedPrice)
{
    /// <summary>Whether the shelf shows another price than the till would charge.</summary>
    public bool NeedsReprint => PrintedPrice != Price;
}

/// <summary>
/// Shelf labels, priced by the same engine as the till, and the list of labels to re-print: those whose price
/// now differs from what was last printed (the labels page records each print).
/// </summary>
public sealed class LabelService(IEventLog log, CatalogQueries catalog, PriceCheck pricing, PromotionCatalog promotions, TimeProvider time)
{
    /// <summary>Creates the labels context's table.</summary>
    public static Task CreateTablesAsync(IEventLog log, CancellationToken cancellationToken) =>
        log.CreateTablesAsync("CREATE TABLE IF NOT EXISTS labels_printed(gtin TEXT PRIMARY KEY, price TEXT NOT NULL, printed_at TEXT NOT NULL) WITHOUT ROWID;", cancellationToken);

    /// <summary>Every product's label now (at most 5,000), or only those to re-print.</summary>
    public async Task<IReadOnlyList<ShelfLabel>> LabelsAsync(bool onlyToReprint, CancellationToken cancellationToken)
    {
        var printed = new Dictionary<string, decimal>(StringComparer.Ordinal);
        await using (var connection = await log.OpenReadConnectionAsync(cancellationToken))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT gtin, price FROM labels_printed";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                printed[reader.GetString(0)] = decimal.Parse(reader.GetString(1), CultureInfo.InvariantCulture);
            }
        }

        var now = time.GetUtcNow();
        var index = await promotions.GetAsync(cancellationToken);
        var labels = new List<ShelfLabel>();
        foreach (var product in await catalog.AllAsync(5000, cancellationToken))
        {
            if (await pricing.LabelAsync(product.Gtin.Value, index, now, cancellationToken) is not { } label)
            {
                continue;
            }

            var shelf = new ShelfLabel(product.Gtin.Value, product.Name, product.Unit == SaleUnit.Kilogram ? "kg" : "each", label.Price.Amount, label.Shelf.Price.Amount,
                label.Price.Currency.Code, [.. label.Promotions.Select(p => p.Name)], printed.TryGetValue(product.Gtin.Value, out var p) ? p : null);
            if (!onlyToReprint || shelf.NeedsReprint)
            {
                labels.Add(shelf);
            }
        }

        return labels;
    }

    /// <summary>Records that labels were printed at these prices.</summary>
    public async Task MarkPrintedAsync(IReadOnlyList<(string Gtin, decimal Price)> labels, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(labels);
        await using var tx = await log.BeginTransactionAsync(cancellationToken);
        foreach (var (gtin, price) in labels)
        {
            var parsed = Gtin.TryParse(gtin, out var g, out var problem) ? g : throw new RetailException(RetailProblem.Invalid, problem);
            await tx.ExecuteAsync("INSERT INTO labels_printed(gtin, price, printed_at) VALUES($g, $p, $at) ON CONFLICT(gtin) DO UPDATE SET price = excluded.price, printed_at = excluded.printed_at",
                cancellationToken, ("$g", parsed.Value), ("$p", price.ToString(CultureInfo.InvariantCulture)), ("$at", time.GetUtcNow().ToString("o", CultureInfo.InvariantCulture)));
        }

        await tx.CommitAsync(cancellationToken);
    }
}
