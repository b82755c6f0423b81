using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Outpost.Core.Events;
using Outpost.Core.Log;
using Outpost.Retail.Catalog;
using Outpost.Retail.Pricing;
using Outpost.Retail.Promotions;
using Outpost.Store.Devices;
using Outpost.Sync.Hosting;

namespace Outpost.Store.Tests;

/// <summary>A real store server on 127.0.0.1 (free port, temp SQLite), with HQ's master data already replicated to it.</summary>
internal sealed class StoreServer : IAsyncDisposable
{
    public const string AdminToken = "admin-token-for-tests";
    public const string Cola = "04006381333931";
    public const string Crisps = "00000096385074";
    public const string Burger = "00000020000011";
    public const string Salad = "00000020000028";

    private StoreServer(WebApplication app, Uri address, string directory)
    {
        App = app;
        Address = address;
        Directory = directory;
    }

    public string Directory { get; }

    public WebApplication App { get; }

    public Uri Address { get; }

    public static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));

    public IEventLog Log => App.Services.GetRequiredService<IEventLog>();

    public static async Task<StoreServer> StartAsync(TimeProvider? time = null, string? directory = null, Action<StoreOptions>? configure = null)
    {
        var dir = directory ?? Path.Combine(Path.GetTempPath(), "outpost-store-tests", Guid.NewGuid().ToString("N"));
        var options = new StoreOptions
        {
            StoreId = "s-042",
            Region = "north",
            TimeZone = "Europe/Paris",
            DataDirectory = dir,
            Urls = "http://127.0.0.1:0",
            AdminToken = AdminToken,
            Time = time ?? TimeProvider.System,
        };
        configure?.Invoke(options);
        var app = StoreHost.Build(options);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var server = new StoreServer(app, app.Address(), dir);
        await server.SeedAsync();
        return server;
    }

    public HttpClient Client(string? token = AdminToken)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async Task<(HttpClient Client, string DeviceId, string Token)> DeviceAsync(string role)
    {
        using var admin = Client();
        var response = await admin.PostAsJsonAsync("/api/devices", new { name = role + " test", role }, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var enrolled = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        var token = enrolled.GetProperty("token").GetString()!;
        return (Client(token), enrolled.GetProperty("device").GetProperty("id").GetString()!, token);
    }

    public async Task<int> CountAsync(string topic, string? type = null)
    {
        var page = await Log.ReadAsync(0, ReadFilter.ForTopics(topic), 10_000, TestContext.Current.CancellationToken);
        return page.Events.Count(e => type is null || e.Type == type);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAndDeleteAsync()
    {
        await DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task SeedAsync()
    {
        if (await CountAsync(CatalogEvents.ProductsTopic) > 0)
        {
            return;
        }

        var events = new List<NewEvent>();
        void Product(string gtin, string name, decimal price, string category)
        {
            events.Add(new NewEvent { Topic = CatalogEvents.ProductsTopic, Type = CatalogEvents.ProductUpserted, Key = gtin,
                Payload = NewEvent.Json(new ProductUpsertedV1(gtin, name, category, "standard", SaleUnit.Each, null, null), CatalogJsonContext.Default.ProductUpsertedV1) });
            var from = new DateTime(2026, 1, 1);
            events.Add(new NewEvent { Topic = PricingEvents.PricesTopic, Type = PricingEvents.PriceSet, Key = PricingEvents.PriceKey(Scope.All, gtin, from),
                Payload = NewEvent.Json(new PriceSetV1(gtin, price, "EUR", from, null), PricingJsonContext.Default.PriceSetV1) });
        }

        Product(Cola, "Cola 1.5L", 1.50m, "drinks");
        Product(Crisps, "Crisps", 1.20m, "snacks");
        Product(Burger, "Bacon Cheeseburger", 8.90m, "burgers");
        Product(Salad, "Chicken Salad", 7.50m, "salads");
        events.Add(new NewEvent { Topic = CatalogEvents.MenuTopic, Type = CatalogEvents.MenuItemUpserted, Key = Burger,
            Payload = NewEvent.Json(new MenuItemUpsertedV1(Burger, "Bacon Cheeseburger", "burgers", "standard", [new("bun", true), new("bacon", true), new("cheese", false)], null), CatalogJsonContext.Default.MenuItemUpsertedV1) });
        events.Add(new NewEvent { Topic = CatalogEvents.MenuTopic, Type = CatalogEvents.MenuItemUpserted, Key = Salad,
            Payload = NewEvent.Json(new MenuItemUpsertedV1(Salad, "Chicken Salad", "salads", "standard", [new("lettuce", true), new("bacon", false)], null), CatalogJsonContext.Default.MenuItemUpsertedV1) });
        events.Add(new NewEvent { Topic = PromotionEvents.PromotionsTopic, Type = PromotionEvents.PromotionSet, Key = "p-cola",
            Payload = NewEvent.Json(new PromotionDefinitionV1("p-cola", "Cola 3 for 2", "multiBuy", [Cola], null, Buy: 3, Pay: 2), PromotionJsonContext.Default.PromotionDefinitionV1) });
        var appended = await Log.AppendBatchAsync(events, cancellationToken: TestContext.Current.CancellationToken);
        await App.Services.GetRequiredService<StoreServices>().Retail.CatchUpToAsync(appended[^1].Seq, TestContext.Current.CancellationToken);
    }
}
