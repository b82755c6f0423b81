using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Outpost.Sync.Hosting;

namespace Outpost.Cli.Bench;

/// <summary>A span as an OTLP receiver got it: the fields a trace view shows, and the resource's service.</summary>
/// <param name="Service">The resource's <c>service.name</c>.</param>
/// <param name="Instance">The resource's <c>service.instance.id</c>.</param>
/// <param name="TraceId">The trace, 32 hex digits.</param>
/// <param name="SpanId">The span, 16 hex digits.</param>
/// <param name="ParentSpanId">Its parent in the trace, or null for a root.</param>
/// <param name="Name">The span's name.</param>
/// <param name="Kind">OTLP's span kind (1 internal, 2 server, 3 client, 4 producer, 5 consumer).</param>
/// <param name="Start">When it started.</param>
/// <param name="End">When it ended.</param>
/// <param name="Attributes">Its attributes (strings, booleans, integers, doubles).</param>
/// <param name="Links">The spans it links to, as (trace, span).</param>
/// <param name="Error">Whether its status is an error.</param>
public sealed record ReceivedSpan(string Service, string? Instance, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind,
    DateTimeOffset Start, DateTimeOffset End, IReadOnlyDictionary<string, object?> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links, bool Error);

/// <summary>
/// An OTLP/HTTP trace receiver on 127.0.0.1 (<c>POST /v1/traces</c>, protobuf): what the nodes export to when the
/// store benchmark measures tracing, and what the tracing tests read spans back from. It decodes the messages it
/// needs (ExportTraceServiceRequest, ResourceSpans, ScopeSpans, Span) by their field numbers in OpenTelemetry's
/// published <c>trace.proto</c>, and answers an empty ExportTraceServiceResponse.
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private long _requests;
    private long _bytes;

    private OtlpSink(WebApplication app) => _app = app;

    /// <summary>The endpoint for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>).</summary>
    public Uri Endpoint => _app.Address();

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    /// <summary>Export requests received.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Bytes of export requests received.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The environment that makes a node export its traces here, sent at once (200 ms batches).</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    /// <summary>Starts listening on a free port of 127.0.0.1.</summary>
    public static async Task<OtlpSink> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var sink = new OtlpSink(app);
        app.MapPost("/v1/traces", sink.ReceiveAsync);
        await app.StartAsync(cancellationToken);
        return sink;
    }

    /// <summary>Decodes an ExportTraceServiceRequest (throws <see cref="FormatException"/> on a malformed one).</summary>
    public static List<ReceivedSpan> Decode(ReadOnlySpan<byte> request)
    {
        var spans = new List<ReceivedSpan>();
        var reader = new ProtoReader(request);
        while (reader.Next(out var field, out var wire))
        {
            if (field == 1 && wire == 2)
            {
                ResourceSpans(reader.Bytes(), spans);
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return spans;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<IResult> ReceiveAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _bytes, body.Length);
        try
        {
            foreach (var span in Decode(body.GetBuffer().AsSpan(0, (int)body.Length)))
            {
                _spans.Enqueue(span);
            }
        }
        catch (FormatException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: ex.Message);
        }

        return Results.Bytes([], "application/x-protobuf");
    }

    private static void ResourceSpans(ReadOnlySpan<byte> message, List<ReceivedSpan> spans)
    {
        var resource = new Dictionary<string, object?>(StringComparer.Ordinal);
        var scopes = new List<byte[]>();
        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2):
                    // Resource { repeated KeyValue attributes = 1; }
                    var inner = new ProtoReader(reader.Bytes());
                    while (inner.Next(out var f, out var w))
                    {
                        if (f == 1 && w == 2)
                        {
                            var (key, value) = KeyValue(inner.Bytes());
                            resource[key] = value;
                        }
                        else
                        {
                            inner.Skip(w);
                        }
                    }

                    break;
                case (2, 2):
                    scopes.Add(reader.Bytes().ToArray());
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        var service = resource.GetValueOrDefault("service.name") as string ?? "unknown";
        var instance = resource.GetValueOrDefault("service.instance.id") as string;
        foreach (var scope in scopes)
        {
            // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
            var scopeReader = new ProtoReader(scope);
            while (scopeReader.Next(out var field, out var wire))
            {
                if (field == 2 && wire == 2)
                {
                    spans.Add(Span(scopeReader.Bytes(), service, instance));
                }
                else
                {
                    scopeReader.Skip(wire);
                }
            }
        }
    }

    private static ReceivedSpan Span(ReadOnlySpan<byte> message, string service, string? instance)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var kind = 0;
        ulong start = 0, end = 0;
        var error = false;
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        var links = new List<(string, string)>();
        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, 2): traceId = Convert.ToHexStringLower(reader.Bytes()); break;
                case (2, 2): spanId = Convert.ToHexStringLower(reader.Bytes()); break;
                case (4, 2):
                    var p = reader.Bytes();
                    parent = p.IsEmpty ? null : Convert.ToHexStringLower(p);
                    break;
                case (5, 2): name = Encoding.UTF8.GetString(reader.Bytes()); break;
                case (6, 0): kind = (int)reader.Varint(); break;
                case (7, 1): start = reader.Fixed64(); break;
                case (8, 1): end = reader.Fixed64(); break;
                case (9, 2):
                    var (key, value) = KeyValue(reader.Bytes());
                    attributes[key] = value;
                    break;
                case (13, 2):
                    // Link { bytes trace_id = 1; bytes span_id = 2; ... }
                    string linkTrace = "", linkSpan = "";
                    var link = new ProtoReader(reader.Bytes());
                    while (link.Next(out var f, out var w))
                    {
                        if (f == 1 && w == 2)
                        {
                            linkTrace = Convert.ToHexStringLower(link.Bytes());
                        }
                        else if (f == 2 && w == 2)
                        {
                            linkSpan = Convert.ToHexStringLower(link.Bytes());
                        }
                        else
                        {
                            link.Skip(w);
                        }
                    }

                    links.Add((linkTrace, linkSpan));
                    break;
                case (15, 2):
                    // Status { string message = 2; StatusCode code = 3; } with code 2 an error.
                    var status = new ProtoReader(reader.Bytes());
                    while (status.Next(out var f, out var w))
                    {
                        if (f == 3 && w == 0)
                        {
                            error = status.Varint() == 2;
                        }
                        else
                        {
                            status.Skip(w);
                        }
                    }

                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new ReceivedSpan(service, instance, traceId, spanId, parent, name, kind, Time(start), Time(end), attributes, links, error);
    }

    private static DateTimeOffset Time(ulong unixNanos) => DateTimeOffset.UnixEpoch.AddTicks((long)(unixNanos / 100));

    /// <summary>KeyValue { string key = 1; AnyValue value = 2; }, AnyValue's string, bool, int and double forms.</summary>
    private static (string Key, object? Value) KeyValue(ReadOnlySpan<byte> message)
    {
        var key = "";
        object? value = null;
        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var wire))
        {
            if (field == 1 && wire == 2)
            {
                key = Encoding.UTF8.GetString(reader.Bytes());
            }
            else if (field == 2 && wire == 2)
            {
                var any = new ProtoReader(reader.Bytes());
                while (any.Next(out var f, out var w))
                {
                    value = (f, w) switch
                    {
                        (1, 2) => Encoding.UTF8.GetString(any.Bytes()),
                        (2, 0) => any.Varint() != 0,
                        (3, 0) => (long)any.Varint(),
                        (4, 1) => BitConverter.UInt64BitsToDouble(any.Fixed64()),
                        _ => Skipped(ref any, w),
                    };
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return (key, value);
    }

    private static object? Skipped(ref ProtoReader reader, int wire)
    {
        reader.Skip(wire);
        return null;
    }

    /// <summary>Protocol buffers' wire format: tags, varints, fixed 64 and 32, length-delimited fields.</summary>
    private ref struct ProtoReader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public bool Next(out int field, out int wire)
        {
            if (_at >= _bytes.Length)
            {
                (field, wire) = (0, 0);
                return false;
            }

            var tag = Varint();
            (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
            return true;
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_at >= _bytes.Length)
                {
                    throw new FormatException("The message ends inside a varint.");
                }

                var b = _bytes[_at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new FormatException("A varint longer than 64 bits.");
        }

        public ulong Fixed64() => BitConverter.ToUInt64(Take(8));

        public ReadOnlySpan<byte> Bytes() => Take(checked((int)Varint()));

        public void Skip(int wire)
        {
            _ = wire switch
            {
                0 => Varint(),
                1 => Fixed64(),
                2 => (ulong)Bytes().Length,
                5 => (ulong)Take(4).Length,
                _ => throw new FormatException($"Wire type {wire} is not one OTLP uses."),
            };
        }

        private ReadOnlySpan<byte> Take(int length)
        {
            if (length < 0 || _bytes.Length - _at < length)
            {
                throw new FormatException("The message ends inside a field.");
            }

            var span = _bytes.Slice(_at, length);
            _at += length;
            return span;
        }
    }
}
