using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outpost.Central.MasterData;
using Outpost.Core.Log;
using Outpost.Retail;
using Outpost.Retail.Catalog;

namespace Outpost.Sync.Tests;

/// <summary>HQ's master data and its administration, on SQLite and on PostgreSQL.</summary>
public abstract class MasterDataTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fresh HQ database: null for SQLite, or a PostgreSQL connection string.</summary>
    protected abstract Task<string?> HqDatabaseAsync();

    /// <summary>A valid GTIN-13 for a number (its check digit computed).</summary>
    internal static string Gtin13(long n)
    {
        var body = (4_000_000_000_000 / 10 + n).ToString("D12", System.Globalization.CultureInfo.InvariantCulture);
        var sum = body.Select((c, i) => (c - '0') * (i % 2 == 0 ? 1 : 3)).Sum();
        return body + ((10 - sum % 10) % 10).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Products_and_prices_reach_the_stores_in_their_scope_and_a_regional_price_only_that_region()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), RetailTopics.Catalog);
        var north = await cluster.StartStoreAsync("n1", "north");
        var south = await cluster.StartStoreAsync("s1", "south");
        var gtin = Gtin13(42);
        await OkAsync(cluster.Admin.PutAsJsonAsync($"admin/products/{gtin}", new ProductBody(null, "Oat milk 1 l", "dairy", "reduced"), Ct));
        await OkAsync(cluster.Admin.PostAsJsonAsync("admin/prices", new PriceBody(gtin, 1.99m, "EUR", new DateTime(2026, 1, 1, 6, 0, 0), null, "*"), Ct));
        await OkAsync(cluster.Admin.PostAsJsonAsync("admin/prices", new PriceBody(gtin, 1.49m, "EUR", new DateTime(2026, 1, 1, 6, 0, 0), null, "region:north"), Ct));
        await OkAsync(cluster.Admin.PostAsJsonAsync("admin/prices", new PriceBody(gtin, 1.79m, "EUR", new DateTime(2026, 1, 1, 6, 0, 0), null, "store:s1"), Ct));
        var marker = await OkAsync(cluster.Admin.PutAsJsonAsync("admin/config/receipt-footer", new ConfigBody("*", JsonDocument.Parse("\"Thank you\"").RootElement), Ct));

        foreach (var store in new[] { north, south })
        {
            Assert.True(await Cluster.EventuallyAsync(async () => (await Cluster.ReadAllAsync(store.Log, ReadFilter.ForTopics("config"))).Count == 1, Bound), $"{store.StoreId} never got the setting");
        }

        string[] Prices(IEnumerable<Outpost.Core.Events.StoredEvent> events) => [.. events.Select(e => e.Scope + " " + JsonDocument.Parse(e.Payload).RootElement.GetProperty("amount").GetDecimal())];
        Assert.Equal(["* 1.99", "region:north 1.49"], Prices(await Cluster.ReadAllAsync(north.Log, ReadFilter.ForTopics("prices"))));
        Assert.Equal(["* 1.99", "store:s1 1.79"], Prices(await Cluster.ReadAllAsync(south.Log, ReadFilter.ForTopics("prices"))));
        var product = Assert.Single(await Cluster.ReadAllAsync(north.Log, ReadFilter.ForTopics("products")));
        Assert.Equal(("Oat milk 1 l", "admin:admin"), (product.Deserialize(CatalogJsonContext.Default.ProductUpsertedV1).Name, product.CorrelationId));
        Assert.True(marker.LastSeq > 0);
    }

    [Fact]
    public async Task A_catalog_with_bad_rows_is_refused_whole_with_every_problem_by_row_and_a_good_one_applies_at_once()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), RetailTopics.Catalog);
        var csv = new StringBuilder("gtin,name,category,tax_class,unit\n");
        for (var i = 1; i <= 1000; i++)
        {
            var gtin = i switch { 5 => "4000000000001", 17 => Gtin13(16), _ => Gtin13(i) };
            var name = i == 999 ? "" : $"\"Product {i}, the \"\"best\"\"\"";
            csv.Append(gtin).Append(',').Append(name).Append(",cat").Append(i % 7).Append(",standard,").Append(i == 500 ? "litre" : "each").Append('\n');
        }

        using var bad = await cluster.Admin.PostAsync("admin/import/products", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"), Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        var problem = JsonDocument.Parse(await bad.Content.ReadAsStringAsync(Ct)).RootElement;
        var errors = problem.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("field").GetString())).ToList();
        Assert.Equal([(6, "gtin"), (18, "gtin"), (501, "unit"), (1000, "name")], errors.Order());
        Assert.Equal(0, await cluster.HqLog.CountAsync(0, ReadFilter.ForTopics("products"), Ct));

        var good = string.Join('\n', ["gtin,name,category,tax_class,unit", .. Enumerable.Range(1, 1000).Select(i => $"{Gtin13(i)},\"Product {i}, the \"\"best\"\"\",cat{i % 7},standard,each")]);
        using var ok = await cluster.Admin.PostAsync("admin/import/products", new StringContent(good, Encoding.UTF8, "text/csv"), Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(1000, (await ok.Content.ReadFromJsonAsync<Applied>(Ct))!.Events);
        var products = await Cluster.ReadAllAsync(cluster.HqLog, ReadFilter.ForTopics("products"));
        Assert.Equal(1000, products.Count);
        Assert.Equal("Product 7, the \"best\"", products[6].Deserialize(CatalogJsonContext.Default.ProductUpsertedV1).Name);

        // The same as JSON, with one duplicate GTIN: refused, and the duplicate named.
        var json = Enumerable.Range(1, 3).Select(i => new ProductBody(Gtin13(i == 3 ? 1 : i), "P" + i, "cat", "standard")).ToList();
        using var duplicate = await cluster.Admin.PostAsJsonAsync("admin/import/products", json, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, duplicate.StatusCode);
        Assert.Contains("also on row 1", await duplicate.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        using var malformed = await cluster.Admin.PostAsync("admin/import/products", new StringContent("[{\"gtin\":", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(1000, await cluster.HqLog.CountAsync(0, ReadFilter.ForTopics("products"), Ct));
    }

    [Fact]
    public async Task A_catalog_of_100000_products_imports_in_one_atomic_append()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), RetailTopics.Catalog);
        var csv = string.Join('\n', ["gtin,name,category,tax_class,unit", .. Enumerable.Range(1, 100_000).Select(i => $"{Gtin13(i)},Product {i},cat{i % 50},standard,{(i % 10 == 0 ? "kilogram" : "each")}")]);
        using var response = await cluster.Admin.PostAsync("admin/import/products", new StringContent(csv, Encoding.UTF8, "text/csv"), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var applied = (await response.Content.ReadFromJsonAsync<Applied>(Ct))!;
        Assert.Equal((100_000, 99_999L), (applied.Events, applied.LastSeq - applied.FirstSeq));
        Assert.Equal(100_000, await cluster.HqLog.CountAsync(0, ReadFilter.ForTopics("products"), Ct));
    }

    [Fact]
    public async Task Bad_changes_get_a_422_naming_each_field_and_change_nothing()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), RetailTopics.Catalog);
        var before = cluster.HqLog.Head;
        using var price = await cluster.Admin.PostAsJsonAsync("admin/prices", new PriceBody("123", -1m, "EURO", default, null, "store:nowhere"), Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, price.StatusCode);
        var fields = JsonDocument.Parse(await price.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Equal(["amount", "currency", "from", "gtin", "scope"], fields.Order());
        using var product = await cluster.Admin.PutAsJsonAsync($"admin/products/{Gtin13(1)}", new ProductBody(Gtin13(2), "x", "c", "t"), Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, product.StatusCode);
        using var promotion = await cluster.Admin.PostAsJsonAsync("admin/promotions", new PromotionBody("*", "EUR", null), Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, promotion.StatusCode);
        Assert.Equal(before, cluster.HqLog.Head);
    }

    [Fact]
    public async Task The_audit_trail_names_who_changed_what_and_unknown_tokens_are_refused()
    {
        await using var cluster = await Cluster.StartAsync(await HqDatabaseAsync(), RetailTopics.Catalog);
        using var anonymous = new HttpClient { BaseAddress = cluster.HqAddress };
        using var none = await anonymous.PutAsJsonAsync($"admin/products/{Gtin13(1)}", new ProductBody(null, "x", "c", "t"), Ct);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        using var wrong = await anonymous.PutAsJsonAsync($"admin/products/{Gtin13(1)}", new ProductBody(null, "x", "c", "t"), Ct);
        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (none.StatusCode, wrong.StatusCode));
        Assert.Equal(0, await cluster.HqLog.CountAsync(0, ReadFilter.ForTopics("products"), Ct));

        await OkAsync(cluster.Admin.PutAsJsonAsync($"admin/products/{Gtin13(1)}", new ProductBody(null, "Tea", "drinks", "standard"), Ct));
        using var register = await cluster.Admin.PostAsJsonAsync("admin/stores", new Central.Admin.RegisterStore("s9", "north"), Ct);
        register.EnsureSuccessStatusCode();
        using var revoke = await cluster.Admin.PostAsync("admin/stores/s9/revoke", null, Ct);
        revoke.EnsureSuccessStatusCode();

        List<AuditEntry>? audit = null;
        Assert.True(await Cluster.EventuallyAsync(async () => (audit = await cluster.Admin.GetFromJsonAsync<List<AuditEntry>>("admin/audit", Ct))!.Count == 3, Bound));
        Assert.Equal([("admin", "audit", "CredentialRevoked", "s9"), ("admin", "audit", "StoreRegistered", "s9"), ("admin", "products", "ProductUpserted", Gtin.Parse(Gtin13(1)).Value)],
            audit!.Select(a => (a.Actor, a.Topic, a.Type, a.Key)));
        Assert.DoesNotContain("secret", await cluster.Admin.GetStringAsync("admin/audit", Ct), StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<Applied> OkAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        return (await response.Content.ReadFromJsonAsync<Applied>(Ct))!;
    }
}

public sealed class MasterDataTestsOnSqlite : MasterDataTests
{
    protected override Task<string?> HqDatabaseAsync() => Task.FromResult<string?>(null);
}

public sealed class MasterDataTestsOnPostgres(Outpost.Testing.PostgresServer server) : MasterDataTests
{
    protected override async Task<string?> HqDatabaseAsync() => await server.CreateDatabaseAsync(TestContext.Current.CancellationToken);
}
