namespace Outpost.Central.Ingest;

/// <summary>
/// Money and quantities in HQ's read models: whole thousandths in a BIGINT, exact for currencies of 0 to 3 decimals
/// and for weighed quantities to the gram, and summed by the database itself, on SQLite (which has no decimal type)
/// and PostgreSQL alike. Never a floating-point number.
/// </summary>
internal static class HqAmounts
{
    public const decimal Scale = 1000m;

    public static long ToMilli(decimal value) => decimal.ToInt64(decimal.Round(value * Scale, MidpointRounding.ToEven));

    public static decimal FromMilli(long milli) => milli / Scale;
}
