namespace Outpost.Sync.Hq;

/// <summary>HQ's registry of stores and their credentials, as the sync endpoints see it.</summary>
public interface IStoreDirectory
{
    /// <summary>Checks a store's secret; secrets are stored hashed and compared in constant time.</summary>
    ValueTask<StoreAuthentication> AuthenticateAsync(string storeId, string secret, CancellationToken cancellationToken);
}
