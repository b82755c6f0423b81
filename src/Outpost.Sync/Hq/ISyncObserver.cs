namespace Outpost.Sync.Hq;

/// <summary>Told of every successful sync request, for fleet health (who is connected, how far behind).</summary>
public interface ISyncObserver
{
    /// <summary>A store's up batch was stored.</summary>
    void UpStored(StoreIdentity store, int accepted, long contiguousOriginSeq);

    /// <summary>A store asked for its down feed from <paramref name="cursor"/> while HQ's log was at <paramref name="head"/>.</summary>
    void DownServed(StoreIdentity store, long cursor, long head);

    /// <summary>An authenticated store request arrived, with what the store reports about itself.</summary>
    void Reported(StoreIdentity store, Protocol.StoreReport report);

    /// <summary>A store with a good credential was refused for another reason (its client certificate), said in words.</summary>
    void Refused(StoreIdentity store, string reason);
}
