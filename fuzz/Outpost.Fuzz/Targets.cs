using System.Text;
using System.Text.Json;
using Outpost.Central.MasterData;
using Outpost.Core.Events;
using Outpost.Retail.Scenarios;
using Outpost.Store;
using Outpost.Store.Api;
using Outpost.Sync.Protocol;

namespace Outpost.Fuzz;

/// <summary>
/// The parsers that face the network or files, each as a fuzz target: bytes in, and either a result or one of the
/// exceptions the parser documents for bad input (which the server turns into a 4xx). Any other exception, a crash
/// of the process, or a hang is a finding.
/// </summary>
public static class Targets
{
    private static readonly string[] Codings = ["identity", "gzip", "br", "zstd"];

    // Created on first use: instrumented code must not run before SharpFuzz has set up afl-fuzz's shared memory.
    private static readonly Lazy<JsonSerializerOptions> DeviceJson = new(() => new(JsonSerializerDefaults.Web) { TypeInfoResolver = StoreJsonContext.Default });

    private static readonly Type[] DeviceBodies =
    [
        typeof(OpenBasketRequest), typeof(AddLineRequest), typeof(QuantityRequest), typeof(MemberRequest), typeof(PaymentRequestBody), typeof(CompleteRequest),
        typeof(VoidRequest), typeof(ReturnRequest), typeof(PlaceOrderRequest), typeof(OrderStatusRequest), typeof(StockCountRequest), typeof(AvailabilityRequest),
        typeof(CampaignPriceRequest), typeof(CampaignPromotionRequest), typeof(EnrolRequest), typeof(PairingRequest), typeof(PairRequest),
    ];

    /// <summary>The targets by name.</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["batch"] = Batch,
        ["event"] = Event,
        ["scenario"] = Scenario,
        ["catalog-csv"] = CatalogCsvRows,
        ["device-json"] = DeviceBody,
    };

    /// <summary>
    /// The sync batch as HQ reads it: the first byte picks the content coding (identity, gzip, br, zstd), the rest is
    /// the body, decompressed within HQ's limit and decoded within its batch limits.
    /// </summary>
    public static void Batch(byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Length == 0)
        {
            return;
        }

        try
        {
            using var batch = new PooledBuffer(4096);
            WireCompression.Decompress(input.AsSpan(1), Codings[input[0] % Codings.Length], 1024 * 1024, batch);
            EventBatchCodec.Decode(batch.WrittenSpan, 10_000, 256 * 1024, out _);
        }
        catch (Exception ex) when (ex is BatchFormatException or BatchTooLargeException)
        {
        }
    }

    /// <summary>The event validator on an event built from the bytes: topic, type, key and scope split at zero bytes, then the payload.</summary>
    public static void Event(byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var parts = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < input.Length && parts.Count < 4; i++)
        {
            if (input[i] == 0)
            {
                parts.Add(input[start..i]);
                start = i + 1;
            }
        }

        string Text(int i) => i < parts.Count ? Encoding.UTF8.GetString(parts[i]) : "";
        try
        {
            var scope = Text(3);
            EventValidator.Validate(new NewEvent
            {
                Topic = Text(0),
                Type = Text(1),
                Key = Text(2),
                Scope = scope.Length == 0 ? Scope.All : Scope.Parse(scope),
                Payload = input.AsMemory(start),
            });
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            // InvalidEventException (an ArgumentException) from the validator, FormatException from a scope that does not
            // parse: the 4xx of bad input.
        }
    }

    /// <summary>A scenario file as <c>outpost price</c> reads it.</summary>
    public static void Scenario(byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            ScenarioRunner.Load(Encoding.UTF8.GetString(input));
        }
        catch (ScenarioException)
        {
        }
    }

    /// <summary>The catalog CSV as HQ's import reads it: every record, every field.</summary>
    public static void CatalogCsvRows(byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            foreach (var (_, fields) in CatalogCsv.Read(new StringReader(Encoding.UTF8.GetString(input))))
            {
                _ = fields.Count;
            }
        }
        catch (FormatException)
        {
        }
    }

    /// <summary>The device API's JSON bodies: the bytes read as each request the store accepts, as its endpoints bind them.</summary>
    public static void DeviceBody(byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        foreach (var type in DeviceBodies)
        {
            try
            {
                JsonSerializer.Deserialize(input, type, DeviceJson.Value);
            }
            catch (JsonException)
            {
            }
        }
    }

    /// <summary>A few valid inputs per target, for the fuzzer to start from.</summary>
    public static IEnumerable<(string Target, string Name, byte[] Bytes)> Seeds()
    {
        var events = Enumerable.Range(1, 3).Select(i => new StoredEvent
        {
            Seq = i,
            Topic = "sales",
            Type = "SaleCompleted",
            Version = 1,
            Key = "b" + i,
            Scope = Scope.Store("s1"),
            Origin = new EventOrigin(NodeId.Parse("s1"), i, HlcTimestamp.From(1_790_000_000_000 + i, 0)),
            Payload = Encoding.UTF8.GetBytes($$"""{"basket":"b{{i}}","total":"12.40"}"""),
        }).ToList();
        using var batch = new PooledBuffer(4096);
        EventBatchCodec.Encode(events, null, batch);
        for (var c = 0; c < Codings.Length; c++)
        {
            yield return ("batch", Codings[c], [(byte)c, .. WireCompression.Compress(batch.WrittenSpan, Codings[c])]);
        }

        yield return ("event", "sale", [.. "sales\0SaleCompleted\0b1\0store:s1\0"u8, .. """{"total":"3.00"}"""u8]);
        yield return ("scenario", "three-for-two", """
            {"currency":"EUR","products":[{"gtin":"04006381333931","name":"Cola","price":1.50}],
             "promotions":[],"baskets":[{"name":"b","lines":[{"gtin":"04006381333931","quantity":3}]}]}
            """u8.ToArray());
        yield return ("catalog-csv", "two-rows", "gtin,name,category,tax_class,unit\n04006381333931,\"Cola, 1.5L\",drinks,standard,each\n2000001000004,Apples,fruit,reduced,kilogram\n"u8.ToArray());
        yield return ("device-json", "line", """{"code":"04006381333931","quantity":2.5}"""u8.ToArray());
        yield return ("device-json", "return", """{"staffId":"s","reason":"r","lines":[{"lineNo":1,"quantity":1}],"toCard":true}"""u8.ToArray());
    }
}
