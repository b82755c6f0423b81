using System.Text.Json;
using System.Text.Json.Serialization;
using Outpost.Core.Contracts;

namespace Outpost.Core.Tests.Contracts;

public sealed class EventContractTests
{
    private static readonly EventContract Order = EventContract.FromRecord("orders", "Placed", 1, ContractTestJsonContext.Default.PlacedV1);

    private static IReadOnlyList<ContractViolation> Check(string payload) => Order.Check(JsonDocument.Parse(payload).RootElement);

    [Fact]
    public void A_payload_written_from_the_record_matches_its_contract()
    {
        var written = JsonSerializer.SerializeToElement(
            new PlacedV1("o1", [new LineV1("4000000000017", 2, null)], 3.98m, new DateTime(2026, 12, 7, 12, 0, 0), null, new TimeOnly(22, 0)), ContractTestJsonContext.Default.PlacedV1);
        Assert.Empty(Order.Check(written));
    }

    [Fact]
    public void A_violation_names_the_field_down_to_the_line_and_says_what_is_wrong()
    {
        Names(Check("""{"orderId":"o1","lines":[],"total":1,"at":"2026-12-07T12:00:00","note":null,"closes":"22:00"}"""), "payload", "\"sent\"");
        Names(Check(Valid.Replace("\"qty\":2", "\"qty\":\"two\"", StringComparison.Ordinal)), "payload.lines[0].qty", "");
        Names(Check(Valid.Replace("\"gtin\":\"4000000000017\"", "\"gtin\":null", StringComparison.Ordinal)), "payload.lines[0].gtin", "");
        Names(Check(Valid.Replace("\"orderId\"", "\"orderid\"", StringComparison.Ordinal)), "payload.orderid", "Not a field");
        Names(Check(Valid.Replace("22:00", "10 pm", StringComparison.Ordinal)), "payload.closes", "");
        Assert.Contains(Check("[1]"), v => v.Field == "payload");
    }

    [Fact]
    public void Local_times_without_an_offset_are_accepted_because_that_is_what_the_records_write()
    {
        Assert.Empty(Check(Valid));
        Assert.Empty(Check(Valid.Replace("2026-12-07T12:00:00", "2026-12-07T12:00:00+01:00", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_schema_that_is_not_json_or_not_a_schema_is_refused_saying_so()
    {
        Assert.Contains("not JSON", Assert.Throws<ArgumentException>(() => EventContract.FromSchema("t", "T", 1, "{")).Message, StringComparison.Ordinal);
        Assert.Contains("JSON object", Assert.Throws<ArgumentException>(() => EventContract.FromSchema("t", "T", 1, "[]")).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EventContract.FromSchema("t", "T", 1, """{"type":"banana"}"""));
    }

    [Fact]
    public void The_catalog_names_an_unknown_topic_type_or_version_with_what_there_is()
    {
        var catalog = new ContractCatalog([Order]);
        var payload = JsonDocument.Parse(Valid).RootElement;
        Assert.Equal("topic", Assert.Single(catalog.Check("nope", "Placed", 1, payload)).Field);
        Assert.Contains("its types are Placed", Assert.Single(catalog.Check("orders", "Shipped", 1, payload)).Message, StringComparison.Ordinal);
        Assert.Contains("it has 1", Assert.Single(catalog.Check("orders", "Placed", 2, payload)).Message, StringComparison.Ordinal);
        Assert.Empty(catalog.Check("orders", "Placed", 1, payload));
        Assert.Throws<ArgumentException>(() => catalog.With([Order]));
    }

    private static void Names(IReadOnlyList<ContractViolation> found, string field, string says) =>
        Assert.True(found.Any(v => v.Field == field && v.Message.Contains(says, StringComparison.Ordinal)),
            $"nothing on {field} saying '{says}'; got: {string.Join("; ", found.Select(v => $"{v.Field}: {v.Message}"))}");

    private const string Valid = """{"orderId":"o1","lines":[{"gtin":"4000000000017","qty":2,"note":null}],"total":3.98,"sent":"2026-12-07T12:00:00","note":null,"closes":"22:00:00"}""";
}

public sealed record LineV1(string Gtin, int Qty, string? Note);

public sealed record PlacedV1(string OrderId, IReadOnlyList<LineV1> Lines, decimal Total, DateTime Sent, string? Note, TimeOnly Closes);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PlacedV1))]
internal sealed partial class ContractTestJsonContext : JsonSerializerContext;
