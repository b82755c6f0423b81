namespace Outpost.Central.Stores;

/// <summary>A store as HQ's registry lists it (never with its secret).</summary>
/// <param name="StoreId">The store's id.</param>
/// <param name="Region">Its region.</param>
/// <param name="Revoked">Whether its credential is revoked.</param>
/// <param name="IssuedAt">When its current credential was issued.</param>
/// <param name="Location">Where it is, when registered with a location.</param>
public sealed record StoreRecord(string StoreId, string Region, bool Revoked, DateTimeOffset IssuedAt, GeoPoint? Location = null);

/// <summary>A place on Earth, in degrees (WGS 84).</summary>
/// <param name="Latitude">-90 to 90.</param>
/// <param name="Longitude">-180 to 180.</param>
public sealed record GeoPoint(double Latitude, double Longitude)
{
    /// <summary>Great-circle distance in kilometres (haversine, mean Earth radius).</summary>
    public double KilometresTo(GeoPoint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Outpost.Retail.Inventory.NearbyStockProjection.Kilometres(Latitude, Longitude, other.Latitude, other.Longitude);
    }
}

/// <summary>A newly issued credential: the secret is shown once and stored only as a hash.</summary>
/// <param name="StoreId">The store's id.</param>
/// <param name="Region">Its region.</param>
/// <param name="Secret">The secret the store presents.</param>
public sealed record IssuedCredential(string StoreId, string Region, string Secret);
