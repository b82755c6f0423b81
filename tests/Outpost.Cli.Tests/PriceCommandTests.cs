using System.Text.Json;

namespace Outpost.Cli.Tests;

public sealed class PriceCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-price-tests", Guid.NewGuid().ToString("N"));

    public PriceCommandTests() => Directory.CreateDirectory(_directory);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Example => Path.Combine(AppContext.BaseDirectory, "scenario.json");

    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await OutpostCommand.RunAsync(args, output, Ct);
        return (exit, output.ToString());
    }

    private async Task<(int Exit, string Output)> PriceAsync(string scenario)
    {
        var path = Path.Combine(_directory, "scenario.json");
        await File.WriteAllTextAsync(path, scenario, Ct);
        return await RunAsync("price", "--scenario", path);
    }

    [Fact]
    public async Task The_documented_example_prices_as_worked_out_by_hand()
    {
        // Crisps 2 x 1.50 = 3.00; chocolate at its store campaign price 1.79 (not HQ's 2.00); milk at the
        // north region's price from 06:00 local, 2 x 0.89 = 1.78; apples 1.250 kg x 2.49 = 3.1125.
        // Subtotal 9.6825 -> 9.68. Snacks 3 for 2: chocolate, crisps, crisps -> the cheapest (1.50) free.
        // 8.18 after items is under the 10.00 threshold. Total 8.18.
        var (exit, output) = await RunAsync("price", "--scenario", Example);

        Assert.True(exit == 0, output);
        var basket = JsonDocument.Parse(output).RootElement[0];
        Assert.Equal((9.68m, 1.50m, 8.18m), (basket.GetProperty("subtotal").GetDecimal(), basket.GetProperty("saving").GetDecimal(), basket.GetProperty("total").GetDecimal()));
        var promotion = Assert.Single(basket.GetProperty("promotions").EnumerateArray());
        Assert.Equal("3for2-snacks", promotion.GetProperty("id").GetString());
        Assert.Equal(3, promotion.GetProperty("used").EnumerateArray().Sum(u => u.GetProperty("units").GetInt32()));
        var lines = basket.GetProperty("lines").EnumerateArray().ToList();
        Assert.Equal("campaign choc-week", lines[1].GetProperty("priceSource").GetString());
        Assert.Equal(0.89m, lines[2].GetProperty("unitPrice").GetDecimal());
        Assert.Equal(1.250m, lines[3].GetProperty("quantity").GetDecimal());
    }

    [Fact]
    public async Task The_text_format_is_a_readable_receipt()
    {
        var (exit, output) = await RunAsync("price", "--scenario", Example, "--format", "text");

        Assert.Equal(0, exit);
        Assert.Contains("Snacks 3 for 2", output, StringComparison.Ordinal);
        Assert.Contains("TOTAL EUR", output, StringComparison.Ordinal);
        Assert.Contains("8.18", output, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadScenarios => new()
    {
        { "{ \"store\": ", "$.store" },
        { Edit("\"currency\": \"EUR\"", "\"currency\": \"EURO\""), "$.store.currency: 'EURO' is not a known ISO 4217 code" },
        { Edit("\"timeZone\": \"Europe/Paris\"", "\"timeZone\": \"Mars/Olympus\""), "$.store.timeZone: 'Mars/Olympus' is not a known time zone" },
        { Edit("{ \"gtin\": \"96385074\", \"quantity\": 2 }", "{ \"gtin\": \"96385075\", \"quantity\": 2 }"), "$.baskets[0].lines[0]" },
        { Edit("\"type\": \"multiBuy\"", "\"type\": \"twoForOne\""), "$.promotions[0].type: 'twoForOne' is not a promotion type" },
        { Edit("\"scope\": \"region:north\"", "\"scope\": \"country:fr\""), "$.prices[3].scope: 'country:fr' is not of a known form" },
        { Edit("\"quantity\": 2 }", "\"quantity\": 2, \"colour\": \"red\" }"), "colour" },
        { Edit("{ \"gtin\": \"036000291452\", \"quantity\": 2 }", "{ \"gtin\": \"036000291452\", \"quantity\": 1.5 }"), "$.baskets[0].lines[2].quantity: 1.5 of 'Milk 1 l', which is sold by the unit" },
    };

    private static string Edit(string from, string to)
    {
        var example = File.ReadAllText(Example);
        Assert.Contains(from, example, StringComparison.Ordinal);
        return example.Replace(from, to, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadScenarios))]
    public async Task A_bad_scenario_is_refused_naming_the_field_and_the_problem(string scenario, string expected)
    {
        var (exit, output) = await PriceAsync(scenario);

        Assert.Equal(1, exit);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
