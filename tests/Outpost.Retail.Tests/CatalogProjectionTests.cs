using System.Text.Json;
using Outpost.Core.Consumers;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail.Catalog;

namespace Outpost.Retail.Tests;

public sealed class CatalogProjectionTests : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-retail-tests", Guid.NewGuid().ToString("N"));
    private readonly SqliteEventLog _log;

    public CatalogProjectionTests()
    {
        _log = SqliteEventLog.Open(new LogOptions { Path = Path.Combine(_directory, "store.db"), NodeId = "store-1" });
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static NewEvent Upsert(string gtin, string name, SaleUnit unit = SaleUnit.Each) => new()
    {
        Topic = CatalogEvents.ProductsTopic,
        Type = CatalogEvents.ProductUpserted,
        Key = gtin,
        Payload = NewEvent.Json(new ProductUpsertedV1(gtin, name, "grocery", "standard", unit, null, new Dictionary<string, string> { ["brand"] = "Outpost" }), CatalogJsonContext.Default.ProductUpsertedV1),
    };

    private async Task<CatalogQueries> ProjectAsync()
    {
        await CatalogProjection.CreateTablesAsync(_log, Ct);
        await new ConsumerRunner(_log, new CatalogProjection(), new ConsumerOptions { RetryDelay = TimeSpan.Zero, MaxAttempts = 2 }).CatchUpAsync(Ct);
        return new CatalogQueries(_log, VariableMeasureLayout.Defaults);
    }

    [Fact]
    public async Task The_newest_upsert_of_a_product_is_what_a_scan_finds()
    {
        await _log.AppendAsync(Upsert("4006381333931", "Highlighter"), Ct);
        await _log.AppendAsync(Upsert("4006381333931", "Highlighter yellow"), Ct);

        var catalog = await ProjectAsync();
        var product = await catalog.FindAsync("4006381333931", Ct);

        Assert.Equal(("Highlighter yellow", "Outpost"), (product!.Name, product.Attributes["brand"]));
    }

    [Fact]
    public async Task A_retired_product_is_no_longer_found()
    {
        await _log.AppendAsync(Upsert("036000291452", "Tissues"), Ct);
        await _log.AppendAsync(new NewEvent
        {
            Topic = CatalogEvents.ProductsTopic,
            Type = CatalogEvents.ProductRetired,
            Key = "036000291452",
            Payload = NewEvent.Json(new ProductRetiredV1("036000291452"), CatalogJsonContext.Default.ProductRetiredV1),
        }, Ct);

        var catalog = await ProjectAsync();

        Assert.Null(await catalog.FindAsync("036000291452", Ct));
    }

    [Fact]
    public async Task A_weighed_items_barcode_finds_the_product_it_was_printed_for()
    {
        await _log.AppendAsync(Upsert("2304567000007", "Apples, loose", SaleUnit.Kilogram), Ct);

        var catalog = await ProjectAsync();
        var product = await catalog.FindAsync("2304567012505", Ct);

        Assert.Equal(("Apples, loose", SaleUnit.Kilogram), (product!.Name, product.Unit));
    }

    [Fact]
    public async Task Search_finds_products_by_part_of_their_name_and_treats_wildcards_literally()
    {
        await _log.AppendAsync(Upsert("4006381333931", "Highlighter yellow"), Ct);
        await _log.AppendAsync(Upsert("036000291452", "Tissues 100%"), Ct);
        await _log.AppendAsync(Upsert("96385074", "Tissues travel"), Ct);

        var catalog = await ProjectAsync();

        Assert.Equal(["Tissues 100%", "Tissues travel"], (await catalog.SearchAsync("tissues", 10, Ct)).Select(p => p.Name));
        Assert.Equal(["Tissues 100%"], (await catalog.SearchAsync("100%", 10, Ct)).Select(p => p.Name));
    }

    [Fact]
    public async Task A_product_event_of_an_unknown_version_is_parked_and_the_rest_applied()
    {
        await _log.AppendAsync(Upsert("4006381333931", "Highlighter") with { Version = 2 }, Ct);
        await _log.AppendAsync(Upsert("96385074", "Pen"), Ct);

        var catalog = await ProjectAsync();

        Assert.NotNull(await catalog.FindAsync("96385074", Ct));
        Assert.Null(await catalog.FindAsync("4006381333931", Ct));
        Assert.Equal("ProductUpserted.v2", Assert.Single(await _log.GetDeadLettersAsync("catalog", Ct)).Type);
    }

    [Fact]
    public async Task A_menu_item_keeps_its_recipe_with_required_and_optional_ingredients()
    {
        var item = new MenuItemUpsertedV1("bacon-cheeseburger", "Bacon Cheeseburger", "burgers", "food", [new RecipeLine("bun", true), new RecipeLine("bacon", true), new RecipeLine("pickles", false)], null);
        await _log.AppendAsync(new NewEvent { Topic = CatalogEvents.MenuTopic, Type = CatalogEvents.MenuItemUpserted, Key = item.Code, Payload = NewEvent.Json(item, CatalogJsonContext.Default.MenuItemUpsertedV1) }, Ct);

        await ProjectAsync();
        await using var connection = await _log.OpenReadConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT recipe FROM catalog_menu_items WHERE code = 'bacon-cheeseburger'";
        var recipe = JsonSerializer.Deserialize((string)(await command.ExecuteScalarAsync(Ct))!, CatalogJsonContext.Default.IReadOnlyListRecipeLine)!;

        Assert.Equal(item.Recipe, recipe);
    }

    public async ValueTask DisposeAsync()
    {
        await _log.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
