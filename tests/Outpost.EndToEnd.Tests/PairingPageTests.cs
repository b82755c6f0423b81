using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Outpost.EndToEnd.Tests;

/// <summary>
/// Pairing as staff do it, in Chromium: the back office asks for a code for a new till and shows it with its QR code;
/// on the new device the start page takes the code, the browser gets its credential as an HttpOnly cookie (script cannot
/// read it; no address holds it) and the till page opens and works; the back office revokes it and the till page says so.
/// </summary>
public sealed class PairingPageTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private Shop _shop = null!;

    public async ValueTask InitializeAsync() => _shop = await Shop.StartAsync();

    public async ValueTask DisposeAsync() => await _shop.DisposeAsync();

    [Fact]
    public async Task The_back_office_shows_a_code_the_new_till_pairs_with_and_revoking_it_signs_the_till_out()
    {
        var (officeContext, office) = await browser.DeviceAsync(_shop.StoreAddress, Shop.AdminToken, "backoffice", "backoffice.html");
        var tillContext = await browser.Instance.NewContextAsync(new() { BaseURL = _shop.StoreAddress.ToString() });
        try
        {
            await office.Locator("#d-name").FillAsync("Till 7");
            await office.Locator("#d-role").SelectOptionAsync("till");
            await office.Locator("#enrol button").ClickAsync();
            await Expect(office.Locator("#pairing-code")).ToContainTextAsync("Pairing code for Till 7 (till)");
            await Expect(office.Locator("#pairing-qr")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^data:image/svg\\+xml;base64,"));
            var code = System.Text.RegularExpressions.Regex.Match(await office.Locator("#pairing-code").InnerTextAsync(), @"\d{4}-\d{4}").Value;
            await Browser.ShotAsync(office, "7-back-office-pairing-code");

            var till = await tillContext.NewPageAsync();
            await till.GotoAsync("/");
            await Expect(till.Locator("#paired")).ToContainTextAsync("not paired yet");
            await till.Locator("#code").FillAsync(code);
            await till.Locator("#pair button").ClickAsync();
            // The start page replaces itself with the till's page (its address is read: a navigation that began before a
            // wait was set up is not missed).
            for (var waited = 0; !till.Url.EndsWith("/till.html", StringComparison.Ordinal); waited += 100)
            {
                if (waited >= 30_000)
                {
                    Assert.Fail($"pairing did not open the till page: the start page is at {till.Url} and says '{await till.Locator("body").InnerTextAsync()}'");
                }

                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            Assert.DoesNotContain(code, till.Url, StringComparison.Ordinal);

            // The credential is an HttpOnly cookie: the browser holds it, the page's script cannot read it, no address has it.
            var cookie = Assert.Single(await tillContext.CookiesAsync(), c => c.Name == "outpost-device");
            Assert.True(cookie.HttpOnly);
            Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
            Assert.Equal("", await till.EvaluateAsync<string>("document.cookie"));
            Assert.Equal(0, await till.EvaluateAsync<int>("localStorage.length"));

            await till.Locator("#code").FillAsync(Shop.Cola);
            await till.Locator("#code").PressAsync("Enter");
            await Expect(till.Locator("#lines tr")).ToHaveCountAsync(1);

            // Revoked in the back office: the till's next request is refused and the page says to pair again.
            await office.ReloadAsync();
            await office.Locator("#devices tr", new() { HasText = "Till 7" }).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
            await Expect(office.Locator("#devices tr", new() { HasText = "Till 7" })).ToContainTextAsync("revoked");
            await till.Locator("#code").FillAsync(Shop.Cola);
            await till.Locator("#code").PressAsync("Enter");
            await Expect(till.Locator("#error")).ToContainTextAsync("not paired (or was revoked)");
        }
        finally
        {
            await officeContext.CloseAsync();
            await tillContext.CloseAsync();
        }
    }
}
