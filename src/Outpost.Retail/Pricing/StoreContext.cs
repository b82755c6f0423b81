namespace Outpost.Retail.Pricing;

/// <summary>Who the store is, for the rules that depend on it: which scopes apply, and its local time.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Region">Its region.</param>
/// <param name="TimeZone">Its time zone (IANA id such as <c>Europe/Paris</c>): prices start and end in store-local time.</param>
/// <param name="Currency">The currency it sells in.</param>
public sealed record StoreContext(string StoreId, string Region, TimeZoneInfo TimeZone, Currency Currency)
{
    /// <summary>The store's wall clock at an instant.</summary>
    public DateTime LocalTime(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, TimeZone).DateTime;
}
