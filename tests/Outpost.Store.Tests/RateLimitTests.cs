using System.Net;
using System.Net.Http.Json;

namespace Outpost.Store.Tests;

/// <summary>
/// The device API's rate limit (ASP.NET Core's rate limiter, a token bucket per device): a flood from one device is
/// refused with 429, Retry-After and a message, and what was refused did nothing, while another device is served as
/// usual; with the shipped limits a till at a busy pace, and a burst of scans, is never refused.
/// </summary>
public sealed class RateLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_flood_from_one_device_gets_429_with_retry_after_and_does_nothing_while_another_device_is_served()
    {
        await using var server = await StoreServer.StartAsync(configure: o => o.RateLimits = new() { Burst = 20, PerSecond = 5 });
        var (flooding, _, _) = await server.DeviceAsync("handheld");
        var (other, _, _) = await server.DeviceAsync("handheld");
        var before = await server.CountAsync("stock", "AvailabilityMarked");

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 100; i++)
        {
            var response = await flooding.PostAsJsonAsync("/api/stock/availability", new { kind = "ingredient", id = "bacon", available = i % 2 == 1 }, Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused ??= response;
            }
        }

        var created = statuses.Count(s => s is HttpStatusCode.OK or HttpStatusCode.NoContent);
        Assert.InRange(created, 20, 40); // the burst, and what refilled at 5 a second while the loop ran
        Assert.Equal(100 - created, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.NotNull(refused);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "no Retry-After");
        Assert.Contains("Requests from this device come faster than the store server accepts", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // What was refused did nothing; the other till has its own allowance.
        Assert.Equal(before + created, await server.CountAsync("stock", "AvailabilityMarked"));
        Assert.True((await other.PostAsJsonAsync("/api/stock/availability", new { kind = "ingredient", id = "bacon", available = true }, Ct)).IsSuccessStatusCode);

        // Health and metrics are never limited.
        using var anonymous = server.Client(null);
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready", Ct)).StatusCode);
        }
    }

    [Fact]
    public async Task A_service_has_a_bucket_of_its_own_size_and_is_still_limited()
    {
        await using var server = await StoreServer.StartAsync(configure: o => o.RateLimits = new() { Burst = 20, PerSecond = 5, ServiceBurst = 60, ServicePerSecond = 5 });
        using var admin = server.Client();
        using var enrolled = await admin.PostAsync("/api/services", new StringContent("""{"name":"bench","publish":[],"read":["stock"]}""", System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        using var service = server.Client((await enrolled.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct)).GetProperty("token").GetString());

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 100; i++)
        {
            using var response = await service.GetAsync("/api/subscriptions/monitor", Ct);
            statuses.Add(response.StatusCode);
        }

        var served = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.InRange(served, 60, 80); // its own burst of 60 (a device's is 20 here), and what refilled
        Assert.Equal(100 - served, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task With_the_shipped_limits_a_busy_till_and_a_burst_of_scans_are_never_refused()
    {
        await using var server = await StoreServer.StartAsync();
        var (till, _, _) = await server.DeviceAsync("till");

        // A burst: 100 price checks at once (a pallet of items scanned into a handheld's queue).
        var burst = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => till.GetAsync($"/api/products/{StoreServer.Cola}", Ct)));
        Assert.All(burst, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        // Then a busy till's pace for three seconds: ten requests a second, as the store benchmark's tills.
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await till.GetAsync($"/api/products/{StoreServer.Cola}", Ct)).StatusCode);
            await Task.Delay(100, Ct);
        }
    }
}
