using Outpost.Cli.Commands;
using Outpost.Core.Contracts;
using Outpost.Retail.Pricing;
using Outpost.Store;

namespace Outpost.Cli.Tests;

/// <summary>The schemas in docs/contracts are what the records generate; a record changed without them fails here.</summary>
public sealed class ContractsCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outpost-contract-tests", Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string DocsContracts
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Outpost.slnx")))
                {
                    return Path.Combine(dir.FullName, "docs", "contracts");
                }
            }

            throw new InvalidOperationException("the repository (Outpost.slnx) is not above the test's folder");
        }
    }

    [Fact]
    public async Task The_schemas_in_docs_contracts_are_the_ones_the_records_generate()
    {
        var problems = await ContractFiles.CompareAsync(StoreContracts.Catalog, DocsContracts, Ct);
        Assert.True(problems.Count == 0, "docs/contracts is out of date; run 'outpost contracts --write docs/contracts':\n" + string.Join("\n", problems));
        Assert.True(StoreContracts.Catalog.All.Count >= 38, $"only {StoreContracts.Catalog.All.Count} contracts");
    }

    [Fact]
    public async Task A_record_changed_without_its_schema_is_found_and_so_are_a_missing_and_a_stray_schema()
    {
        using var output = new StringWriter();
        Assert.Equal(0, await OutpostCommand.RunAsync(["contracts", "--write", _directory], output, Ct));
        Assert.Equal(0, await OutpostCommand.RunAsync(["contracts", "--check", _directory], output, Ct));

        // PriceSet as if its record had lost a field: the file on disk no longer matches what the record generates.
        var changed = new ContractCatalog(StoreContracts.Catalog.All.Where(c => c.Type != PricingEvents.PriceSet).Append(
            EventContract.FromRecord(PricingEvents.PricesTopic, PricingEvents.PriceSet, 1, ChangedJsonContext.Default.PriceSetWithoutCurrency)));
        Assert.Equal(["differs from its record: " + Path.Combine("prices", "PriceSet.v1.schema.json")], await ContractFiles.CompareAsync(changed, _directory, Ct));

        File.Delete(Path.Combine(_directory, "sales", "SaleVoided.v1.schema.json"));
        await File.WriteAllTextAsync(Path.Combine(_directory, "sales", "SaleTeleported.v1.schema.json"), "{}", Ct);
        using var checkOutput = new StringWriter();
        Assert.Equal(1, await OutpostCommand.RunAsync(["contracts", "--check", _directory], checkOutput, Ct));
        var said = checkOutput.ToString();
        Assert.Contains("missing: " + Path.Combine("sales", "SaleVoided.v1.schema.json"), said, StringComparison.Ordinal);
        Assert.Contains("no record generates it: " + Path.Combine("sales", "SaleTeleported.v1.schema.json"), said, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

/// <summary>PriceSet v1 as if a field had been dropped from its record.</summary>
public sealed record PriceSetWithoutCurrency(string Gtin, decimal Amount, DateTime FromLocal, DateTime? ToLocal);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(PriceSetWithoutCurrency))]
internal sealed partial class ChangedJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
