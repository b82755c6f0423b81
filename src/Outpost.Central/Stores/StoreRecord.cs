namespace Outpost.Central.Stores;

/// <summary>A store as HQ's registry lists it (never with its secret).</summary>
/// <param name="StoreId">The store's id.</param>
/// <param name="Region">Its region.</param>
/// <param name="Revoked">Whether its credential is revoked.</param>
/// <param name="IssuedAt">When its current credential was issued.</param>
public sealed record StoreRecord(string StoreId, string Region, bool Revoked, DateTimeOffset IssuedAt);

/// <summary>A newly issued credential: the secret is shown once and stored only as a hash.</summary>
/// <param name="StoreId">The store's id.</param>
/// <param name="Region">Its region.</param>
/// <param name="Secret">The secret the store presents.</param>
public sealed record IssuedCredential(string StoreId, string Region, string Secret);
