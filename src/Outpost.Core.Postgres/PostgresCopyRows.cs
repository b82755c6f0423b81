using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Npgsql;
using Outpost.Core.Events;
using Outpost.Core.Topics;

namespace Outpost.Core.Postgres;

/// <summary>
/// A batch's rows of the <c>events</c> table in PostgreSQL's binary COPY format, encoded on the appending thread.
/// Only the five fields the writer decides when it places the group are left out: sequence, origin id, origin seq,
/// clock and checksum. They lead each row, at fixed offsets, so the copy writes those 58 bytes and copies the rest,
/// instead of the log's one writer encoding every field of every event.
/// </summary>
internal sealed class PostgresCopyRows
{
    /// <summary>The COPY's column list: the writer's fields first.</summary>
    public const string Columns = "seq, origin_id, origin_seq, hlc, checksum, topic, type, version, key, scope, correlation_id, causation_id, payload, down, trace";

    private const short FieldCount = 15;

    /// <summary>The field count and the five fields the writer fills: int64, int32, int64, int64, int64, each after its length.</summary>
    private const int PrefixLength = 2 + (4 + 8) + (4 + 4) + (4 + 8) + (4 + 8) + (4 + 8);

    /// <summary>The binary COPY header: signature, flags (no OIDs), no header extension.</summary>
    private static readonly byte[] Header = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The binary COPY trailer: a field count of -1.</summary>
    private static readonly byte[] Trailer = [0xFF, 0xFF];

    private byte[] _tails;
    private readonly int[] _offsets;

    private PostgresCopyRows(byte[] tails, int[] offsets)
    {
        _tails = tails;
        _offsets = offsets;
    }

    /// <summary>Encodes everything of each event that does not depend on its place in the log.</summary>
    public static PostgresCopyRows Encode(IReadOnlyList<NewEvent> events, TopicCatalog topics)
    {
        var offsets = new int[events.Count + 1];
        var scopes = new string[events.Count];
        var length = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            // A store's batch is mostly one scope: its text once, not once per event.
            scopes[i] = i > 0 && e.Scope == events[i - 1].Scope ? scopes[i - 1] : e.Scope.ToString();
            offsets[i] = length;
            length += Text(e.Topic) + Text(e.Type) + 4 + 4 + Text(e.Key) + Text(scopes[i]) + Text(e.CorrelationId) + Text(e.CausationId) + 4 + e.Payload.Length + 4 + 1
                + Text(e.TraceParent);
        }

        offsets[events.Count] = length;
        // Rented: a batch of 1,000 sales is a quarter of a megabyte, which would otherwise land on the large object
        // heap at every request and bring on full collections that pause the writer mid-COPY.
        var tails = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var tail = tails.AsSpan(offsets[i]);
            var at = 0;
            at += WriteText(tail[at..], e.Topic);
            at += WriteText(tail[at..], e.Type);
            BinaryPrimitives.WriteInt32BigEndian(tail[at..], 4);
            BinaryPrimitives.WriteInt32BigEndian(tail[(at + 4)..], e.Version);
            at += 8;
            at += WriteText(tail[at..], e.Key);
            at += WriteText(tail[at..], scopes[i]);
            at += WriteText(tail[at..], e.CorrelationId);
            at += WriteText(tail[at..], e.CausationId);
            BinaryPrimitives.WriteInt32BigEndian(tail[at..], e.Payload.Length);
            e.Payload.Span.CopyTo(tail[(at + 4)..]);
            at += 4 + e.Payload.Length;
            BinaryPrimitives.WriteInt32BigEndian(tail[at..], 1);
            tail[at + 4] = topics[e.Topic].Direction == TopicDirection.Down ? (byte)1 : (byte)0;
            at += 5;
            WriteText(tail[at..], e.TraceParent);
        }

        return new PostgresCopyRows(tails, offsets);
    }

    /// <summary>Gives the encoded rows' memory back once the writer is done with the batch (committed or failed).</summary>
    public void Release()
    {
        var tails = Interlocked.Exchange(ref _tails, []);
        if (tails.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(tails);
        }
    }

    /// <summary>Writes the rows into <c>events</c> by one binary COPY on the connection (in its transaction); none, no COPY.</summary>
    public static void Copy(NpgsqlConnection connection, IReadOnlyList<Placed> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }

        using var copy = connection.BeginRawBinaryCopy($"COPY events({Columns}) FROM STDIN (FORMAT BINARY)");
        copy.Write(Header);
        Span<byte> prefix = stackalloc byte[PrefixLength];
        BinaryPrimitives.WriteInt16BigEndian(prefix, FieldCount);
        Field(prefix[2..], 8);
        Field(prefix[14..], 4);
        Field(prefix[22..], 8);
        Field(prefix[34..], 8);
        Field(prefix[46..], 8);
        foreach (var row in rows)
        {
            BinaryPrimitives.WriteInt64BigEndian(prefix[6..], row.Seq);
            BinaryPrimitives.WriteInt32BigEndian(prefix[18..], row.NodeId);
            BinaryPrimitives.WriteInt64BigEndian(prefix[26..], row.OriginSeq);
            BinaryPrimitives.WriteInt64BigEndian(prefix[38..], row.Hlc);
            BinaryPrimitives.WriteInt64BigEndian(prefix[50..], row.Checksum);
            copy.Write(prefix);
            copy.Write(row.Rows._tails.AsSpan(row.Rows._offsets[row.Index], row.Rows._offsets[row.Index + 1] - row.Rows._offsets[row.Index]));
        }

        copy.Write(Trailer);
    }

    private static void Field(Span<byte> at, int length) => BinaryPrimitives.WriteInt32BigEndian(at, length);

    private static int Text(string? value) => 4 + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));

    private static int WriteText(Span<byte> at, string? value)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteInt32BigEndian(at, -1);
            return 4;
        }

        var written = Encoding.UTF8.GetBytes(value, at[4..]);
        BinaryPrimitives.WriteInt32BigEndian(at, written);
        return 4 + written;
    }

    /// <summary>One event as the writer placed it: its encoded rest, and the fields it decided.</summary>
    internal readonly record struct Placed(PostgresCopyRows Rows, int Index, long Seq, int NodeId, long OriginSeq, long Hlc, long Checksum);
}
