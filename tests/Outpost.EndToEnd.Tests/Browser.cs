using Microsoft.Playwright;

namespace Outpost.EndToEnd.Tests;

/// <summary>Debian's Chromium driven by Playwright, headless, shared by the tests of a class.</summary>
public sealed class Browser : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Instance { get; private set; } = null!;

    public static string Screenshots { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async ValueTask InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"The browser tests need Chromium at {Chromium}: install it with 'apt-get install -y chromium' (./test.sh does this when run as root).");
        // CI runs the test projects side by side on two cores: an expectation waits up to 15 s, not Playwright's 5 s,
        // so a slow moment fails a test only when the page really does not show what it must.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        Instance = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
        Directory.CreateDirectory(Screenshots);
    }

    public async ValueTask DisposeAsync()
    {
        if (Instance is not null)
        {
            await Instance.CloseAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>
    /// A page of a device paired as staff do it: the back office (here the store's admin token, through the API) asks for a pairing
    /// code for <paramref name="role"/>; the device opens the start page's QR address (<c>/#pair=code</c>), which pairs it
    /// (an HttpOnly cookie) and opens the page for its role; then <paramref name="page"/>.
    /// </summary>
    public async Task<(IBrowserContext Context, IPage Page)> DeviceAsync(Uri store, string adminToken, string role, string page)
    {
        var code = await PairingCodeAsync(store, adminToken, role);
        var context = await Instance.NewContextAsync(new() { BaseURL = store.ToString(), ViewportSize = new() { Width = 1280, Height = 800 } });
        var tab = await context.NewPageAsync();
        var console = new System.Collections.Concurrent.ConcurrentQueue<string>();
        tab.Console += (_, message) => console.Enqueue(message.Type + ": " + message.Text);
        tab.Response += (_, response) => console.Enqueue($"{response.Status} {response.Request.Method} {response.Url}");
        await tab.GotoAsync("/#pair=" + code);
        // The start page replaces itself with the role's page once paired (it may have before GotoAsync returned).
        for (var waited = 0; !tab.Url.EndsWith(".html", StringComparison.Ordinal); waited += 100)
        {
            if (waited >= 30_000)
            {
                var said = await tab.EvaluateAsync<string>("() => [document.getElementById('paired')?.textContent, document.getElementById('error')?.textContent].join(' | ')");
                throw new TimeoutException($"Pairing as a {role} with code {code} did not open a page in 30 s; the start page at {tab.Url} says: {said}; it saw:\n{string.Join('\n', console)}");
            }

            await Task.Delay(100);
        }

        await tab.GotoAsync("/" + page);
        return (context, tab);
    }

    /// <summary>A pairing code for a device of <paramref name="role"/>, asked for with the store's admin token.</summary>
    public static async Task<string> PairingCodeAsync(Uri store, string adminToken, string role)
    {
        using var admin = new HttpClient { BaseAddress = store };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(admin, "/api/devices/pairings", new { name = "e2e " + role, role },
            TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("code").GetString()!;
    }

    public static Task ShotAsync(IPage page, string name) => page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
}
