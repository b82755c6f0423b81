using System.Collections.Concurrent;
using Outpost.Sync.Hq;

namespace Outpost.Central.Fleet;

/// <summary>What HQ knows of one store's link, from its sync requests.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="LastSeen">Its last successful request.</param>
/// <param name="EventsReceived">Events stored from it since HQ started.</param>
/// <param name="ContiguousOriginSeq">Its events HQ holds with no gap.</param>
/// <param name="DownCursor">Where its down feed stands in HQ's log.</param>
/// <param name="DownLag">HQ events it has not fetched yet.</param>
public sealed record StoreLink(string StoreId, DateTimeOffset LastSeen, long EventsReceived, long ContiguousOriginSeq, long DownCursor, long DownLag);

/// <summary>Keeps each store's latest sync figures in memory for the fleet view (the PostgreSQL issue persists them).</summary>
public sealed class FleetTracker(TimeProvider time) : ISyncObserver
{
    private readonly ConcurrentDictionary<string, StoreLink> _links = new(StringComparer.Ordinal);

    /// <summary>Every store seen since HQ started.</summary>
    public IReadOnlyList<StoreLink> Links => [.. _links.Values.OrderBy(l => l.StoreId, StringComparer.Ordinal)];

    /// <inheritdoc />
    public void UpStored(StoreIdentity store, int accepted, long contiguousOriginSeq)
    {
        ArgumentNullException.ThrowIfNull(store);
        _links.AddOrUpdate(store.StoreId,
            id => new StoreLink(id, time.GetUtcNow(), accepted, contiguousOriginSeq, 0, 0),
            (_, l) => l with { LastSeen = time.GetUtcNow(), EventsReceived = l.EventsReceived + accepted, ContiguousOriginSeq = Math.Max(l.ContiguousOriginSeq, contiguousOriginSeq) });
    }

    /// <inheritdoc />
    public void DownServed(StoreIdentity store, long cursor, long head)
    {
        ArgumentNullException.ThrowIfNull(store);
        _links.AddOrUpdate(store.StoreId,
            id => new StoreLink(id, time.GetUtcNow(), 0, 0, cursor, Math.Max(0, head - cursor)),
            (_, l) => l with { LastSeen = time.GetUtcNow(), DownCursor = cursor, DownLag = Math.Max(0, head - cursor) });
    }
}
