using Microsoft.Playwright;
using Outpost.Sync.Hosting;
using static Microsoft.Playwright.Assertions;

namespace Outpost.EndToEnd.Tests;

/// <summary>
/// Every page of the store and of HQ is served with a strict content security policy (no inline script, no style
/// attribute), no MIME sniffing, no referrer and no framing, and still works under it in Chromium: the browser reports
/// no violation and no script error, and each page shows what it is for. HQ's fleet page warns that this HQ serves
/// plain HTTP.
/// </summary>
public sealed class SecurityHeadersTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private static readonly string[] StorePages = ["index.html", "till.html", "kiosk.html", "menu.html", "kitchen.html", "collection.html", "backoffice.html", "labels.html"];
    private Shop _shop = null!;

    public async ValueTask InitializeAsync() => _shop = await Shop.StartAsync();

    public async ValueTask DisposeAsync() => await _shop.DisposeAsync();

    [Fact]
    public async Task Every_store_and_hq_page_carries_the_headers_and_works_under_the_policy_with_no_violation()
    {
        var (context, page) = await browser.DeviceAsync(_shop.StoreAddress, Shop.AdminToken, "backoffice", "backoffice.html");
        var problems = new List<string>();
        // A policy violation or any failed load (a missing icon included) is a problem; a 401 before signing in is not.
        void Watch(IConsoleMessage message)
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal) || message.Type == "error" && !message.Text.Contains("401", StringComparison.Ordinal))
            {
                problems.Add($"{message.Location}: {message.Text}");
            }
        }

        context.Console += (_, message) => Watch(message);
        page.PageError += (_, error) => problems.Add("script error: " + error);
        try
        {
            foreach (var name in StorePages)
            {
                var response = await page.GotoAsync("/" + name);
                AssertHeaders(response!, name);
                await Expect(page.Locator("main")).ToBeVisibleAsync();
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            }

            // What the pages do under the policy: the till scans, the back office shows the link and draws a QR code.
            await page.GotoAsync("/till.html");
            await page.Locator("#code").FillAsync(Shop.Cola);
            await page.Locator("#code").PressAsync("Enter");
            await Expect(page.Locator("#lines tr")).ToHaveCountAsync(1);
            await page.GotoAsync("/backoffice.html");
            await Expect(page.Locator("#state")).Not.ToBeEmptyAsync();
            await page.Locator("#d-name").FillAsync("Kiosk 3");
            await page.Locator("#d-role").SelectOptionAsync("kiosk");
            await page.Locator("#enrol button").ClickAsync();
            await Expect(page.Locator("#pairing-qr")).ToBeVisibleAsync();
            Assert.True(await page.Locator("#pairing-qr").EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"), "the QR code did not load under the policy");

            var hq = await browser.Instance.NewContextAsync(new() { BaseURL = _shop.Hq.Address().ToString() });
            hq.Console += (_, message) => Watch(message);
            var hqPage = await hq.NewPageAsync();
            hqPage.PageError += (_, error) => problems.Add("HQ script error: " + error);
            foreach (var name in new[] { "fleet.html", "admin.html" })
            {
                AssertHeaders((await hqPage.GotoAsync("/" + name))!, name);
            }

            await hqPage.GotoAsync("/fleet.html");
            await hqPage.FillAsync("#token", "hq-admin");
            await hqPage.ClickAsync("#login button");
            await Expect(hqPage.Locator("#fleet tbody tr")).ToHaveCountAsync(1);
            await Expect(hqPage.Locator("#tls-warnings")).ToContainTextAsync("HQ serves plain HTTP");
            await hq.CloseAsync();

            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    private static void AssertHeaders(IResponse response, string page)
    {
        var headers = response.Headers;
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, headers.GetValueOrDefault("content-security-policy"));
        Assert.DoesNotContain("unsafe-inline", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("nosniff", headers.GetValueOrDefault("x-content-type-options"));
        Assert.Equal("no-referrer", headers.GetValueOrDefault("referrer-policy"));
        Assert.True(response.Ok, $"{page}: {response.Status}");
    }
}
