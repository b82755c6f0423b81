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

    /// <summary>A page signed in as a device (its token kept in the page's storage, as the start page does).</summary>
    public async Task<(IBrowserContext Context, IPage Page)> DeviceAsync(Uri store, string token, string page)
    {
        var context = await Instance.NewContextAsync(new() { BaseURL = store.ToString(), ViewportSize = new() { Width = 1280, Height = 800 } });
        var tab = await context.NewPageAsync();
        await tab.GotoAsync("/?token=" + Uri.EscapeDataString(token));
        await tab.GotoAsync("/" + page);
        return (context, tab);
    }

    public static Task ShotAsync(IPage page, string name) => page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
}
