using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Outpost.Core.Log;
using Outpost.Core.Log.Sqlite;
using Outpost.Sync.Hosting;
using Outpost.Testing;

namespace Outpost.EndToEnd.Tests;

/// <summary>
/// A store server whose disk fills up for real (its data on a tmpfs of a few MiB, filled with a ballast file): the
/// till is refused in words (507), the store's health and HQ's fleet view say the disk is full, nothing is torn, and
/// once there is room the till's same sale completes once and reaches HQ with every sale made before.
/// </summary>
public sealed class FullDiskTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_whose_disk_fills_refuses_the_till_in_words_says_so_on_its_health_and_at_HQ_and_finishes_the_sale_once_there_is_room()
    {
        using var disk = SmallDisk.Mount(48);
        var data = Path.Combine(disk.Path, Shop.StoreId);
        var shop = await Shop.StartAsync(data);
        try
        {
            using var till = shop.Client(await shop.EnrolAsync("till"));
            using var backOffice = shop.Client(Shop.AdminToken);
            using var hq = new HttpClient { BaseAddress = shop.Hq.Address() };
            hq.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "hq-admin");

            var completed = 0;
            var first = new Sale(till, "before-the-disk-filled");
            Assert.Null(await first.RunAsync());
            completed++;

            // The disk fills up (a ballast file takes every free byte); the tills go on selling until the store refuses.
            disk.Fill(leaveBytes: 0);
            Sale? stuck = null;
            HttpResponseMessage? refusal = null;
            for (var i = 0; i < 300 && refusal is null; i++)
            {
                var sale = new Sale(till, "while-full-" + i);
                refusal = await sale.RunAsync();
                if (refusal is null)
                {
                    completed++; // the WAL's space is reused until the log has to grow
                }
                else
                {
                    stuck = sale;
                }
            }

            Assert.NotNull(refusal);
            var problem = JsonDocument.Parse(await refusal.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal(HttpStatusCode.InsufficientStorage, refusal.StatusCode);
            Assert.Equal("Store's disk is full", problem.GetProperty("title").GetString());
            Assert.Contains("nothing of this was recorded", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.NotNull(refusal.Headers.RetryAfter);

            // The store says so: not ready, and why; HQ's fleet view shows it with the store's next request.
            var ready = await backOffice.GetAsync("/health/ready", Ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("is full", await ready.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            var health = await backOffice.GetFromJsonAsync<JsonElement>("/api/deploy/health", Ct);
            Assert.Contains("is full", health.GetProperty("storageProblem").GetString(), StringComparison.Ordinal);
            Assert.True(await Shop.EventuallyAsync(async () => (await FleetErrorAsync(hq))?.Contains("is full", StringComparison.Ordinal) == true, TimeSpan.FromSeconds(30)),
                $"HQ's fleet view did not show the full disk within 30 s; it shows: {await FleetErrorAsync(hq)}");

            // Room again: the till's same step goes through, the sale completes once, and the store is healthy again.
            disk.Free();
            Assert.True(await Shop.EventuallyAsync(async () => await stuck!.RunAsync() is null, TimeSpan.FromSeconds(30)), "the stuck sale did not complete within 30 s of the disk having room");
            completed++;
            var readiness = "";
            Assert.True(await Shop.EventuallyAsync(async () =>
            {
                using var answer = await backOffice.GetAsync("/health/ready", Ct);
                readiness = $"{(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync(Ct)}";
                return answer.IsSuccessStatusCode;
            }, TimeSpan.FromSeconds(30)), $"the store was not ready again within 30 s; /health/ready answers: {readiness}");
            Assert.True(await Shop.EventuallyAsync(async () => await shop.HqLog.CountAsync(0, ReadFilter.ForTopics("sales"), Ct) == completed, TimeSpan.FromSeconds(30)),
                $"HQ holds {await shop.HqLog.CountAsync(0, ReadFilter.ForTopics("sales"), Ct)} sales, the tills completed {completed}");
            Assert.True(await Shop.EventuallyAsync(async () => await FleetErrorAsync(hq) is null, TimeSpan.FromSeconds(30)), $"HQ still shows: {await FleetErrorAsync(hq)}");
        }
        finally
        {
            await shop.DisposeAsync();
        }

        // Nothing torn: the store's log file verifies.
        var report = SqliteLogVerifier.Verify(Path.Combine(data, "store.db"), Ct);
        Assert.True(report.Healthy, string.Join("; ", report.FileProblems.Concat(report.Damaged.Select(d => $"{d.Seq}: {d.Problem}"))));
    }

    private static async Task<string?> FleetErrorAsync(HttpClient hq)
    {
        var fleet = await hq.GetFromJsonAsync<JsonElement>("admin/fleet", Ct);
        var store = fleet.EnumerateArray().Single(s => s.GetProperty("storeId").GetString() == Shop.StoreId);
        return store.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String ? error.GetString() : null;
    }

    /// <summary>A till's sale as steps; a refused step is where the sale stands, and running it again goes on from there.</summary>
    private sealed class Sale(HttpClient till, string key)
    {
        private string? _basket;
        private int _step;

        /// <summary>Null once the sale is complete; else the refusal of the step it stopped at.</summary>
        public async Task<HttpResponseMessage?> RunAsync()
        {
            while (_step < 4)
            {
                var response = _step switch
                {
                    0 => await till.PostAsJsonAsync("/api/baskets", new { }, Ct),
                    1 => await till.PostAsJsonAsync($"/api/baskets/{_basket}/lines", new { code = Shop.Cola, quantity = 1 }, Ct),
                    2 => await till.PostAsJsonAsync($"/api/baskets/{_basket}/payments", new { method = "cash", amount = 5m }, Ct),
                    _ => await till.PostAsJsonAsync($"/api/baskets/{_basket}/complete", new { idempotencyKey = key }, Ct),
                };
                if (!response.IsSuccessStatusCode)
                {
                    return response;
                }

                _basket ??= JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString();
                _step++;
            }

            return null;
        }
    }
}
