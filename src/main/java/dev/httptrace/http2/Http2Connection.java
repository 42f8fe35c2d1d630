package dev.httptrace.http2;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.Exchange.Header;
import dev.httptrace.hpack.HeaderBlock;
import dev.httptrace.hpack.HeaderField;
import dev.httptrace.hpack.HpackDecoder;
import dev.httptrace.protocol.ProtocolConnection;
import dev.httptrace.protocol.ProtocolContext;
import dev.httptrace.tcp.Connection;
import dev.httptrace.tcp.EndReason;
import dev.httptrace.tcp.StreamConsumer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * The HTTP/2 view of one connection: a {@link FrameReader} and an HPACK decoder per direction,
 * and the streams by id, each reported as one {@link Exchange} when it ends.
 *
 * <p>Which side is the client: the one that sent the preface, else the one that sent the SYN,
 * else the one whose header block carries request pseudo-header fields ({@code :method},
 * {@code :path}), or whose block carries {@code :status} (the server). A stream's first header
 * block from the client is its request, the server's first final one its response, a later one
 * from the server its trailers. Joined mid-way, a stream first seen by a frame other than the
 * client's HEADERS is reported for what was seen, marked {@code request_headers_seen: false}.
 */
final class Http2Connection implements ProtocolConnection, FrameHandler {

    /** Streams open at once on one connection beyond this are counted, not tracked. */
    static final int MAX_OPEN_STREAMS = 1024;

    private final Http2Counters counters;
    private final ProtocolContext context;
    private final Connection tcp;
    private final boolean joinedMidStream;
    private final FrameReader[] readers;
    /** decoders[side] decodes the header blocks that side sends. */
    private final HpackDecoder[] decoders;
    private int clientSide;
    private final HashMap<Integer, Stream> streams = new HashMap<>();
    /** The stream of the latest lookup: DATA pieces of one stream come in runs, and a map lookup boxes ids over 127. */
    private Stream recent;
    /** Highest client stream id whose stream was seen opening, or (mid-way) first seen at all. */
    private int highestClientStream;
    /** The first stream whose request HEADERS were seen; streams below it opened before the join. */
    private int firstRequestSeen;
    private boolean recognised;

    Http2Connection(Http2Counters counters, ProtocolContext context, Connection tcp, boolean joinedMidStream) {
        this.counters = counters;
        this.context = context;
        this.tcp = tcp;
        this.joinedMidStream = joinedMidStream;
        this.readers = new FrameReader[] {new FrameReader(0, this, counters), new FrameReader(1, this, counters)};
        this.decoders = new HpackDecoder[] {
                new HpackDecoder(joinedMidStream, HpackDecoder.Limits.defaults()),
                new HpackDecoder(joinedMidStream, HpackDecoder.Limits.defaults())};
        this.clientSide = tcp.initiator();
    }

    @Override
    public StreamConsumer stream(int side) {
        return readers[side];
    }

    @Override
    public boolean recognised() {
        return recognised;
    }

    /**
     * h2c: the HTTP/1.1 request that asked for the upgrade is stream 1, half-closed by the
     * client; its HTTP2-Settings header holds the client's first SETTINGS.
     */
    void upgradedFrom(int clientSide, Exchange.Request request) {
        this.clientSide = clientSide;
        recognised = true;
        Stream s = new Stream(1, clientSide, request.timestampNanos());
        s.requestSeen = true;
        s.requestTimestamp = request.timestampNanos();
        s.method = request.method();
        s.path = request.target();
        s.scheme = "http";
        s.requestHeaders = request.headers();
        s.body[clientSide] = request.bodySize();
        s.ended[clientSide] = true;
        counters.requests++;
        firstRequestSeen = 1;
        highestClientStream = 1;
        streams.put(1, s);
        for (Header h : request.headers()) {
            if (h.name().equalsIgnoreCase("http2-settings")) upgradeSettings(clientSide, h.value());
        }
    }

    /** The base64url SETTINGS payload of an HTTP2-Settings header, as if sent by {@code side}. */
    private void upgradeSettings(int side, String value) {
        byte[] p;
        try {
            p = java.util.Base64.getUrlDecoder().decode(value.strip().replace("=", ""));
        } catch (IllegalArgumentException e) {
            return; // not base64url: nothing to learn
        }
        int n = p.length / 6;
        int[] ids = new int[n];
        long[] values = new long[n];
        for (int k = 0; k < n; k++) {
            ids[k] = (p[k * 6] & 0xFF) << 8 | (p[k * 6 + 1] & 0xFF);
            values[k] = (long) (p[k * 6 + 2] & 0xFF) << 24 | (p[k * 6 + 3] & 0xFF) << 16 | (p[k * 6 + 4] & 0xFF) << 8
                    | (p[k * 6 + 5] & 0xFF);
        }
        settings(side, ids, values, n);
    }

    // ---- frames ----

    @Override
    public void preface(int side) {
        recognised = true;
        clientSide = side;
    }

    @Override
    public void headers(int side, int streamId, boolean endStream, byte[] block, int length, boolean complete, long ts) {
        recognised = true;
        HeaderBlock fields = decode(side, block, length, complete);
        inferClient(side, fields);
        Stream s = stream(streamId, side, true, ts);
        if (s == null) return;
        s.unknownFields += fields == null ? 0 : fields.unknownFields();
        if (fields == null || fields.truncated()) s.truncated[side] = true;
        boolean fromClient = isClient(side, s);
        if (fromClient) {
            if (!s.requestSeen && s.blocks[side] == 0 && s.body[side] == 0 && !s.pushed) {
                s.request(fields, ts);
            }
        } else {
            int status = s.responseSeen ? 0 : status(fields);
            if (!s.responseSeen && status >= 100 && status < 200) {
                // informational (100 Continue, 103): the final response comes later
            } else if (!s.responseSeen) {
                s.response(fields, status, ts);
            } else {
                s.trailers(fields);
            }
        }
        s.blocks[side]++;
        if (endStream) end(s, side, ts);
    }

    @Override
    public void pushPromise(int side, int streamId, int promisedId, byte[] block, int length, boolean complete, long ts) {
        recognised = true;
        HeaderBlock fields = decode(side, block, length, complete);
        if (clientSide < 0) clientSide = 1 - side; // only a server pushes
        if (promisedId == 0 || (promisedId & 1) != 0 || streams.containsKey(promisedId)) return;
        if (streams.size() >= MAX_OPEN_STREAMS) {
            counters.streamsDropped++;
            return;
        }
        Stream s = new Stream(promisedId, side, ts);
        s.pushed = true;
        s.pushedBy = streamId;
        s.request(fields, ts); // the promised request
        s.unknownFields += fields == null ? 0 : fields.unknownFields();
        s.ended[1 - side] = true; // a promised request has no body
        streams.put(promisedId, s);
    }

    @Override
    public void data(int side, int streamId, byte[] buf, int off, int length, long ts) {
        Stream s = stream(streamId, side, false, ts);
        if (s == null) return;
        s.body[side] += length;
        s.grpcFrames(side).feed(buf, off, length);
    }

    @Override
    public void dataGap(int side, int streamId, long bytes, boolean lost, long ts) {
        Stream s = stream(streamId, side, false, ts);
        if (s == null) return;
        s.body[side] += bytes;
        if (lost) s.gap[side] = true;
        s.grpcFrames(side).skip(bytes);
    }

    @Override
    public void dataEnd(int side, int streamId, boolean endStream, long ts) {
        if (!endStream) return;
        Stream s = open(streamId);
        if (s != null) end(s, side, ts);
    }

    @Override
    public void rstStream(int side, int streamId, long errorCode, long ts) {
        recognised = true;
        Stream s = open(streamId);
        if (s == null) return;
        counters.rstStreams++;
        s.reset = new Exchange.Reset(errorCode, Frames.errorName(errorCode), isClient(side, s) ? "client" : "server");
        s.endTimestamp = ts;
        emit(s, "rst_stream", s.responseSeen ? null : "rst_stream");
    }

    @Override
    public void settings(int side, int[] ids, long[] values, int n) {
        recognised = true;
        for (int k = 0; k < n; k++) {
            // The limit a peer sets binds the encoder of the blocks it receives.
            if (ids[k] == Frames.SETTINGS_HEADER_TABLE_SIZE) decoders[1 - side].settingsHeaderTableSize(values[k]);
            if (ids[k] == Frames.SETTINGS_MAX_FRAME_SIZE) readers[1 - side].maxFrameSize(values[k]);
        }
    }

    @Override
    public void goAway(int side, int lastStreamId, long errorCode, long ts) {
        recognised = true;
        counters.goAways++;
        Exchange.GoAway g = new Exchange.GoAway(lastStreamId, errorCode, Frames.errorName(errorCode));
        // Streams the receiver opened above the last id were not processed, and will not be.
        for (Stream s : new ArrayList<>(streams.values())) {
            boolean openedByReceiver = s.opener == 1 - side;
            if (openedByReceiver && s.id > lastStreamId) {
                s.goAway = g;
                s.endTimestamp = ts;
                emit(s, "goaway", s.responseSeen ? null : "goaway");
            }
        }
    }

    @Override
    public void framingLost(int side, long ts) {
        decoders[side].lost();
        for (Stream s : streams.values()) s.gap[side] = true;
    }

    // ---- connection ----

    @Override
    public void onClose(EndReason reason, long timestampNanos) {
        String end = switch (reason) {
            case FIN, RST, REPLACED -> "closed";
            case IDLE, EVICTED -> "timeout";
            case CAPTURE_END -> "capture_end";
        };
        List<Stream> open = new ArrayList<>(streams.values());
        open.sort((a, b) -> Integer.compare(a.id, b.id));
        for (Stream s : open) emit(s, end, s.responseSeen ? null : end);
    }

    @Override
    public void onHandedOver() {
        streams.clear();
        recent = null;
    }

    // ---- streams ----

    /** The stream {@code id}; opened when it is new. Null for stream 0, closed streams, and beyond the bound. */
    private Stream stream(int id, int side, boolean headers, long ts) {
        Stream s = open(id);
        if (s != null || id == 0) return s;
        boolean clientStream = (id & 1) == 1;
        if (clientStream && id <= highestClientStream && id >= firstRequestSeen && firstRequestSeen > 0) {
            return null; // seen already and ended: a late frame
        }
        if (!clientStream && !joinedMidStream) return null; // a pushed stream opens with its PUSH_PROMISE
        if (streams.size() >= MAX_OPEN_STREAMS) {
            counters.streamsDropped++;
            return null;
        }
        if (clientStream) highestClientStream = Math.max(highestClientStream, id);
        s = new Stream(id, side, ts);
        s.pushed = !clientStream;
        streams.put(id, s);
        return s;
    }

    /** The open stream {@code id}, or null. */
    private Stream open(int id) {
        Stream s = recent;
        if (s != null && s.id == id) return s;
        s = streams.get(id);
        if (s != null) recent = s;
        return s;
    }

    /** {@code side} sends as the client on stream {@code s}. */
    private boolean isClient(int side, Stream s) {
        int client = clientSide >= 0 ? clientSide : s.pushed ? 1 - s.opener : s.opener;
        return side == client;
    }

    private HeaderBlock decode(int side, byte[] block, int length, boolean complete) {
        if (!complete) {
            decoders[side].lost();
            return null;
        }
        HeaderBlock b = decoders[side].decode(block, 0, length);
        if (b.error()) counters.hpackErrors++;
        return b;
    }

    /** Roles from what a block says, when neither the preface nor the SYN told. */
    private void inferClient(int side, HeaderBlock fields) {
        if (clientSide >= 0 || fields == null) return;
        for (HeaderField f : fields.fields()) {
            String n = f.name();
            if (n == null || n.isEmpty() || n.charAt(0) != ':') continue;
            clientSide = n.equals(":status") ? 1 - side : side;
            return;
        }
    }

    private static int status(HeaderBlock fields) {
        if (fields == null) return 0;
        for (HeaderField f : fields.fields()) {
            if (":status".equals(f.name()) && f.value() != null) {
                String v = f.value();
                if (v.length() == 3 && Character.isDigit(v.charAt(0)) && Character.isDigit(v.charAt(1))
                        && Character.isDigit(v.charAt(2))) {
                    return Integer.parseInt(v);
                }
            }
        }
        return 0;
    }

    private void end(Stream s, int side, long ts) {
        s.ended[side] = true;
        s.endTimestamp = ts;
        int client = clientOf(s);
        // A stream whose request came before the join: the client's half most likely ended unseen.
        boolean clientDone = s.ended[client] || (!s.requestSeen && s.blocks[client] == 0 && s.body[client] == 0);
        if (clientDone && s.ended[1 - client]) emit(s, "complete", null);
    }

    private int clientOf(Stream s) {
        return isClient(0, s) ? 0 : 1;
    }

    private void emit(Stream s, String end, String unanswered) {
        if (streams.remove(s.id) == null) return;
        if (recent == s) recent = null;
        int client = clientOf(s);
        int server = 1 - client;
        Exchange.Grpc grpc = s.grpc(client);
        boolean partial = s.unknownFields > 0 || !s.requestSeen;
        counters.streams++;
        if (partial) counters.partialStreams++;
        counters.unknownFields += s.unknownFields;
        Exchange.Request request = new Exchange.Request(s.requestSeen ? s.requestTimestamp : s.firstTimestamp,
                s.method, s.path, "2", s.requestHeaders, s.truncated[client], s.body[client]);
        Exchange.Response response = s.responseSeen
                ? new Exchange.Response(s.responseTimestamp, s.status, null, "2", s.responseHeaders,
                        s.truncated[server], s.body[server])
                : null;
        // A stream that ended without a response HEADERS seen: the capture missed it (joined after it, or lost it).
        String why = response != null ? null : unanswered != null ? unanswered : "gap";
        boolean gap = s.gap[0] || s.gap[1] || s.truncated[0] || s.truncated[1] || "gap".equals(why);
        Exchange.TraceInfo trace = new Exchange.TraceInfo(why, gap,
                tcp.retransmissions(), false, List.of(), null);
        Exchange.Http2 h2 = new Exchange.Http2(s.id, end, s.reset, s.goAway, s.scheme, s.trailers,
                s.unknownFields, joinedMidStream, s.requestSeen, s.pushedBy,
                "complete".equals(end) || s.reset != null || s.goAway != null ? s.endTimestamp : 0L, grpc);
        context.emit(client, request, response, trace, h2);
    }

    /** The state of one stream until it is reported. */
    private final class Stream {
        final int id;
        /** The side whose frame opened the stream here (its HEADERS, or whatever was seen first). */
        final int opener;
        final long firstTimestamp;
        boolean pushed;
        int pushedBy;
        boolean requestSeen;
        boolean responseSeen;
        long requestTimestamp;
        long responseTimestamp;
        long endTimestamp;
        String method;
        String path;
        String scheme;
        int status;
        List<Header> requestHeaders = List.of();
        List<Header> responseHeaders = List.of();
        List<Header> trailers = List.of();
        String contentType;
        boolean grpcHeaders;
        Integer grpcStatus;
        String grpcMessage;
        int unknownFields;
        final boolean[] ended = new boolean[2];
        final boolean[] gap = new boolean[2];
        final boolean[] truncated = new boolean[2];
        final int[] blocks = new int[2];
        final long[] body = new long[2];
        private final GrpcFrames[] grpcFrames = new GrpcFrames[2];
        Exchange.Reset reset;
        Exchange.GoAway goAway;

        Stream(int id, int opener, long ts) {
            this.id = id;
            this.opener = opener;
            this.firstTimestamp = ts;
        }

        void request(HeaderBlock fields, long ts) {
            counters.requests++;
            requestSeen = true;
            requestTimestamp = ts;
            if (!pushed && (id & 1) == 1) {
                if (firstRequestSeen == 0 || id < firstRequestSeen) firstRequestSeen = id;
                highestClientStream = Math.max(highestClientStream, id);
            }
            if (fields == null) return;
            List<Header> headers = new ArrayList<>(fields.fields().size());
            for (HeaderField f : fields.fields()) {
                String n = f.name();
                if (n == null) continue; // unknown: counted, not shown
                switch (n) {
                    case ":method" -> method = f.value();
                    case ":path" -> path = f.value();
                    case ":scheme" -> scheme = f.value();
                    case ":authority" -> headers.add(0, new Header("host", f.value(), f.sensitive()));
                    default -> {
                        if (!n.startsWith(":")) headers.add(new Header(n, f.value(), f.sensitive()));
                    }
                }
                note(n, f.value());
            }
            requestHeaders = headers;
        }

        void response(HeaderBlock fields, int status, long ts) {
            counters.responses++;
            responseSeen = true;
            responseTimestamp = ts;
            this.status = status;
            responseHeaders = regular(fields);
        }

        void trailers(HeaderBlock fields) {
            trailers = regular(fields);
        }

        /** The fields that are not pseudo-headers nor unknown; notes the gRPC ones. */
        private List<Header> regular(HeaderBlock fields) {
            if (fields == null) return List.of();
            List<Header> headers = new ArrayList<>(fields.fields().size());
            for (HeaderField f : fields.fields()) {
                String n = f.name();
                if (n == null || n.startsWith(":")) continue;
                headers.add(new Header(n, f.value(), f.sensitive()));
                note(n, f.value());
            }
            return headers;
        }

        private void note(String name, String value) {
            switch (name) {
                case "content-type" -> {
                    if (contentType == null && value != null) contentType = value;
                }
                case "grpc-status" -> {
                    grpcHeaders = true;
                    grpcStatus = parseStatus(value);
                }
                case "grpc-message" -> {
                    grpcHeaders = true;
                    grpcMessage = value;
                }
                case "grpc-encoding", "grpc-accept-encoding", "grpc-timeout" -> grpcHeaders = true;
                default -> { }
            }
        }

        GrpcFrames grpcFrames(int side) {
            GrpcFrames g = grpcFrames[side];
            if (g == null) grpcFrames[side] = g = new GrpcFrames();
            return g;
        }

        /** The gRPC view of the call, when the headers or (content type unknown) the DATA framing say it is one. */
        Exchange.Grpc grpc(int client) {
            boolean declared = contentType != null && contentType.startsWith("application/grpc");
            GrpcFrames up = grpcFrames[client];
            GrpcFrames down = grpcFrames[1 - client];
            boolean framed = contentType == null && unknownFields > 0
                    && (up == null || up.whole()) && (down == null || down.whole())
                    && ((up != null && up.messages > 0) || (down != null && down.messages > 0))
                    && (method == null || method.equals("POST"));
            if (!declared && !grpcHeaders && !framed) return null;
            String service = null, rpcMethod = null;
            if (path != null && path.length() > 1 && path.charAt(0) == '/') {
                int slash = path.lastIndexOf('/');
                if (slash > 1 && slash < path.length() - 1) {
                    service = path.substring(1, slash);
                    rpcMethod = path.substring(slash + 1);
                }
            }
            return new Exchange.Grpc(service, rpcMethod, grpcStatus, grpcMessage, count(up), count(down));
        }

        private static long count(GrpcFrames g) {
            return g == null ? 0 : g.broken ? -1 : g.messages;
        }

        private static Integer parseStatus(String v) {
            if (v == null || v.isEmpty() || v.length() > 9) return null;
            for (int i = 0; i < v.length(); i++) if (!Character.isDigit(v.charAt(i))) return null;
            return Integer.valueOf(v);
        }
    }

    /** Counts gRPC's length-prefixed messages (a flag byte and a 4-byte length) in one direction's DATA. */
    static final class GrpcFrames {
        private int prefixFill;
        private long length;
        private long remaining;
        long messages;
        boolean broken;

        void feed(byte[] b, int off, int len) {
            int i = off;
            int end = off + len;
            while (i < end && !broken) {
                if (remaining > 0) {
                    int n = (int) Math.min(remaining, end - i);
                    remaining -= n;
                    i += n;
                    continue;
                }
                int v = b[i++] & 0xFF;
                if (prefixFill == 0) {
                    if (v > 1) broken = true; // the compressed flag is 0 or 1
                    length = 0;
                } else {
                    length = length << 8 | v;
                }
                if (++prefixFill == 5) {
                    prefixFill = 0;
                    messages++;
                    remaining = length;
                }
            }
        }

        void skip(long bytes) {
            if (bytes <= remaining) {
                remaining -= bytes;
            } else {
                broken = true; // a prefix was lost: the count is unknown
            }
        }

        /** Every message seen whole: the bytes were gRPC framing from end to end. */
        boolean whole() {
            return !broken && prefixFill == 0 && remaining == 0;
        }
    }
}
