namespace Outpost.Retail.Pricing;

/// <summary>Who the store is, for the rules that depend on it: which scopes apply, and its local time.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Region">Its region.</param>
/// <param name="TimeZone">Its time zone (IANA id such as <c>Europe/Paris</c>): prices start and end in store-local time.</param>
/// <param name="Currency">The currency it sells in.</param>
/// <param name="BusinessDayStarts">
/// When its trading day begins, store-local (default midnight): a store open until 2 am sets 04:00, and a sale at
/// 01:30 belongs to the day before, as its day-end report does.
/// </param>
public sealed record StoreContext(string StoreId, string Region, TimeZoneInfo TimeZone, Currency Currency, TimeSpan BusinessDayStarts = default)
{
    /// <summary>The store's wall clock at an instant.</summary>
    public DateTime LocalTime(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, TimeZone).DateTime;

    /// <summary>The store's trading day at an instant.</summary>
    public DateOnly BusinessDay(DateTimeOffset instant) => DateOnly.FromDateTime(LocalTime(instant) - BusinessDayStarts);
}
