namespace Outpost.Sync.Hq;

/// <summary>An authenticated store: its id and the region whose scope it receives.</summary>
/// <param name="StoreId">The store's id, which is also the origin of its events.</param>
/// <param name="Region">Its region.</param>
public sealed record StoreIdentity(string StoreId, string Region)
{
    /// <summary>The scopes of HQ's down events this store receives: every store's, its region's, its own.</summary>
    public Outpost.Core.Events.Scope[] Scopes => [Outpost.Core.Events.Scope.All, Outpost.Core.Events.Scope.Region(Region), Outpost.Core.Events.Scope.Store(StoreId)];
}

/// <summary>The outcome of checking a store's credential.</summary>
/// <param name="Store">The store, when the credential is valid.</param>
/// <param name="Revoked">True when the store is known but its credential was revoked.</param>
/// <param name="Changed">
/// Cancelled when the store's credential changes (rotated or revoked, on any HQ node) after this check: a request
/// held open on it ends then, and the store is checked again.
/// </param>
public sealed record StoreAuthentication(StoreIdentity? Store, bool Revoked = false, CancellationToken Changed = default);
