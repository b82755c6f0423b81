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

        // Tax included. The 1.50 saving is spread over chocolate 1.79 and crisps 1.50 + 1.50 by price: crisps line
        // 2.0605 -> 2.06 holds 0.34; chocolate 1.2295 -> 1.23 holds 0.205 -> 0.20 (half-even). Standard: net 2.75,
        // tax 0.54. Milk 1.78 holds 0.0928 -> 0.09; apples 3.1125 -> 3.11 hold 0.1621 -> 0.16. Reduced: net 4.64, tax 0.25.
        var taxes = basket.GetProperty("taxes").EnumerateArray().Select(t => (t.GetProperty("taxClass").GetString(), t.GetProperty("net").GetDecimal(), t.GetProperty("tax").GetDecimal())).ToList();
        Assert.Equal([("reduced", 4.64m, 0.25m), ("standard", 2.75m, 0.54m)], taxes);
        Assert.Equal(0.79m, basket.GetProperty("taxTotal").GetDecimal());
    }

    [Fact]
    public async Task A_members_basket_gets_the_personal_offer_and_the_better_of_two_exclusive_promotions()
    {
        // Crisps 2 x 1.50, chocolate 1.79 (campaign), milk 0.89: subtotal 5.68. Exclusive: 3 for 2 on snacks saves
        // 1.50; buy 2 crisps get chocolate half price saves 0.895; they share units, so the engine keeps 3 for 2.
        // The member is a student: 0.20 off milk. Total 5.68 - 1.50 - 0.20 = 3.98.
        var (exit, output) = await RunAsync("price", "--scenario", Example);

        Assert.True(exit == 0, output);
        var basket = JsonDocument.Parse(output).RootElement[1];
        Assert.Equal((5.68m, 1.70m, 3.98m), (basket.GetProperty("subtotal").GetDecimal(), basket.GetProperty("saving").GetDecimal(), basket.GetProperty("total").GetDecimal()));
        Assert.Equal(["3for2-snacks", "students-milk"], basket.GetProperty("promotions").EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToList());
        Assert.Equal(0.58m, basket.GetProperty("taxTotal").GetDecimal());
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
        { Edit("\"taxClass\": \"reduced\" },", "\"taxClass\": \"luxury\" },"), "$.products[2].taxClass: 'luxury' has no rate" },
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
