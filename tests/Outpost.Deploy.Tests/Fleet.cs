using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Retail.Checkout;

namespace Outpost.Deploy.Tests;

/// <summary>What the container tests do to HQ and a store through their public APIs, as an operator and the tills would.</summary>
public static class Fleet
{
    public const string Cola = "5449000000996";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A free loopback port.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static HttpClient Client(string baseUrl, string? token = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(10) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>Waits (bounded) until <c>/health/ready</c> answers 200.</summary>
    public static async Task WaitReadyAsync(string baseUrl, TimeSpan limit, Func<Task<string>> diagnose)
    {
        using var client = Client(baseUrl);
        client.Timeout = TimeSpan.FromSeconds(2);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            try
            {
                using var response = await client.GetAsync("health/ready", Ct);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"{baseUrl} was not ready within {limit.TotalSeconds:0} s. {await diagnose()}");
    }

    /// <summary>Registers a store at HQ and returns the secret HQ issued for it.</summary>
    public static async Task<string> RegisterStoreAsync(HttpClient hqAdmin, string storeId, string region)
    {
        using var response = await hqAdmin.PostAsJsonAsync("admin/stores", new { storeId, region }, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"registering {storeId}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("secret").GetString()!;
    }

    /// <summary>HQ publishes a product and its price for every store.</summary>
    public static async Task PublishPriceAsync(HttpClient hqAdmin, string gtin, string name, decimal price)
    {
        using var product = await hqAdmin.PutAsJsonAsync($"admin/products/{gtin}", new { name, category = "drinks", taxClass = "standard" }, Ct);
        Assert.True(product.IsSuccessStatusCode, $"product: {(int)product.StatusCode} {await product.Content.ReadAsStringAsync(Ct)}");
        using var priced = await hqAdmin.PostAsJsonAsync("admin/prices", new { gtin, amount = price, currency = "EUR", from = new DateTime(2026, 1, 1, 0, 0, 0), to = (DateTime?)null, scope = "*" }, Ct);
        Assert.True(priced.IsSuccessStatusCode, $"price: {(int)priced.StatusCode} {await priced.Content.ReadAsStringAsync(Ct)}");
    }

    /// <summary>Waits (bounded) until the store prices <paramref name="gtin"/> at <paramref name="price"/>: HQ's price has come down.</summary>
    public static async Task WaitForPriceAsync(HttpClient device, string gtin, decimal price, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < limit)
        {
            try
            {
                using var response = await device.GetAsync($"api/products/{gtin}", Ct);
                last = await response.Content.ReadAsStringAsync(Ct);
                if (response.IsSuccessStatusCode && JsonDocument.Parse(last).RootElement.GetProperty("price").GetDecimal() == price)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }

            await Task.Delay(200, Ct);
        }

        Assert.Fail($"The store did not price {gtin} at {price} within {limit.TotalSeconds:0} s; it last said: {last}");
    }

    /// <summary>Enrols a device with a role at the store's back office and returns its token.</summary>
    public static async Task<string> EnrolAsync(HttpClient storeAdmin, string name, string role)
    {
        using var response = await storeAdmin.PostAsJsonAsync("api/devices", new { name, role }, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"enrolling {name}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>How many sales HQ has recorded for a store (its sales read model, all days).</summary>
    public static async Task<long> SalesAtHqAsync(HttpClient hqAdmin, string storeId)
    {
        using var response = await hqAdmin.GetAsync($"admin/sales?store={storeId}&from=2000-01-01&to=2100-01-01", Ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.EnumerateArray().Sum(d => d.GetProperty("sales").GetInt64());
    }

    /// <summary>Every SaleCompleted event in a log file, by its idempotency key (read after the node stopped).</summary>
    public static async Task<List<SaleCompletedV1>> SalesInLogAsync(string path, string nodeId)
    {
        await using var log = SqliteEventLog.Open(new LogOptions { Path = path, NodeId = nodeId });
        var events = await log.ReadAllAsync(ReadFilter.ForTopics(CheckoutEvents.SalesTopic), cancellationToken: Ct);
        return [.. events.Where(e => e.Type == CheckoutEvents.SaleCompleted).Select(e => e.Deserialize(CheckoutJsonContext.Default.SaleCompletedV1))];
    }
}
