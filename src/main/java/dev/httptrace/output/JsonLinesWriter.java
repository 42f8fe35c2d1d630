package dev.httptrace.output;

import dev.httptrace.exchange.EncodedExchangeSink;
import dev.httptrace.exchange.Exchange;

import dev.httptrace.exchange.Exchange.Header;
import dev.httptrace.exchange.Exchange.Request;
import dev.httptrace.exchange.Exchange.Response;
import dev.httptrace.exchange.Exchange.TraceInfo;
import dev.httptrace.exchange.ExchangeSink;
import dev.httptrace.exchange.ProcessInfo;

import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;

/**
 * Writes each exchange as one JSON object on one line (JSON Lines), in the record format
 * of schema version {@value #SCHEMA_VERSION}: see
 * {@code src/main/resources/schema/httptrace-exchange-v1.schema.json} and the README.
 *
 * <p>One Jackson streaming generator is reused for all records (no tree per record). A
 * record is written completely or not at all: it is generated into a buffer and kept only
 * when complete, so an exception from one bad exchange leaves no half line and the writer
 * usable. {@link #exchange} never flushes the stream; it hands buffered lines to it in
 * large writes. {@link #flush} writes what is pending and flushes the stream (call it once
 * per poll batch so that {@code | jq} sees records promptly).
 *
 * <p>Not thread-safe: one thread (the capture loop) calls it.
 */
public final class JsonLinesWriter implements ExchangeSink, Flushable {

    /** The {@code httptrace.schema_version} this writer produces. */
    public static final int SCHEMA_VERSION = 1;

    /** Class-path location of the JSON Schema of the records. */
    public static final String SCHEMA_RESOURCE = "/schema/httptrace-exchange-v1.schema.json";

    private static byte[] n(String name) {
        return JsonOut.name(name);
    }

    private static final byte[] TIMESTAMP = n("timestamp"), EVENT = n("event"),
            DURATION = n("duration"), NETWORK = n("network"), TRANSPORT = n("transport"),
            TYPE = n("type"), PROTOCOL = n("protocol"), NAME = n("name"), VERSION = n("version"),
            CLIENT = n("client"), SERVER = n("server"), ADDRESS = n("address"), PORT = n("port"),
            URL = n("url"), ORIGINAL = n("original"), SCHEME = n("scheme"), DOMAIN = n("domain"),
            PATH = n("path"), QUERY = n("query"), USER_AGENT = n("user_agent"), HTTP = n("http"),
            REQUEST = n("request"), METHOD = n("method"), HEADERS = n("headers"), BODY = n("body"),
            SIZE = n("size"), RESPONSE = n("response"), STATUS_CODE = n("status_code"),
            REASON = n("reason"), HTTPTRACE = n("httptrace"), SCHEMA_VERSION_F = n("schema_version"),
            INTERFACE = n("interface"), GAP = n("gap"), TRUNCATED = n("truncated"),
            UPGRADED = n("upgraded"), RETRANSMISSIONS = n("retransmissions"),
            UNANSWERED = n("unanswered");
    // HTTP/2 and gRPC only.
    private static final byte[] TRAILERS = n("trailers"), HTTP2 = n("http2"), STREAM_ID = n("stream_id"),
            END = n("end"), END_DURATION = n("end_duration"), UNKNOWN_FIELDS = n("unknown_fields"),
            JOINED_MID_STREAM = n("joined_mid_stream"), REQUEST_HEADERS_SEEN = n("request_headers_seen"),
            PUSHED_BY = n("pushed_by"), RST_STREAM = n("rst_stream"), GOAWAY = n("goaway"), ERROR = n("error"),
            CODE = n("code"), BY = n("by"), LAST_STREAM_ID = n("last_stream_id"), RPC = n("rpc"),
            SYSTEM = n("system"), SERVICE = n("service"), GRPC = n("grpc"), MESSAGE = n("message"),
            REQUEST_MESSAGES = n("request_messages"), RESPONSE_MESSAGES = n("response_messages");
    private static final byte[] GRPC_NAME = JsonOut.value("grpc");
    private static final byte[] TCP = JsonOut.value("tcp"), IPV4 = JsonOut.value("ipv4"),
            IPV6 = JsonOut.value("ipv6"), HTTP_NAME = JsonOut.value("http"),
            REDACTED = JsonOut.value(OutputOptions.REDACTED);

    private static final byte[] ANOMALIES = n("anomalies"), MALFORMED_REQUEST = n("malformed_request");
    // TLS only: the processes at the ends, and whether the socket was known.
    private static final byte[] PROCESS = n("process"), PID = n("pid"), EXECUTABLE = n("executable"),
            THREAD = n("thread"), ID = n("id"), TLS = n("tls"), ATTRIBUTION = n("attribution");
    private static final byte[] HTTPS = JsonOut.value("https"), SOCKET = JsonOut.value("socket"),
            UNKNOWN = JsonOut.value("unknown");
    private static final int NAME_CACHE_MAX = 1024;
    private static final String USER_AGENT_NAME = "user-agent";

    private final OutputOptions options;
    private final InterfaceNameCache interfaceNames;
    private final LineBuffer buffer;
    private final JsonOut gen = new JsonOut();
    // Reused per record: nothing below is allocated on the hot path.
    private final char[] scratch = new char[64];
    private final Target target = new Target();
    private final StringBuilder joined = new StringBuilder();
    private Name[] requestNames = new Name[32];
    private Name[] responseNames = new Name[32];
    private final HashMap<String, Name> nameCache = new HashMap<>();
    /** Also receives each record's bytes (e.g. the Kafka export); null: none. */
    private EncodedExchangeSink encoded;

    public JsonLinesWriter(OutputStream out, OutputOptions options) {
        this.options = options == null ? OutputOptions.defaults() : options;
        this.interfaceNames = new InterfaceNameCache(this.options.interfaceNames());
        this.buffer = new LineBuffer(out);
    }

    /**
     * Writes one record. Does not flush.
     *
     * @throws UncheckedIOException when writing to the stream fails
     * @throws IllegalArgumentException and other runtime exceptions for an exchange that
     *         cannot be written (e.g. an address that is neither 4 nor 16 bytes); nothing
     *         of that record is written and the writer stays usable
     */
    @Override
    public void exchange(Exchange x) {
        gen.reset();
        record(x); // a failure leaves nothing written: the record goes to the buffer only when whole
        buffer.write(gen.array(), 0, gen.length());
        buffer.commit();
        if (encoded != null) {
            encoded.encoded(x, gen.array(), 0, gen.length() - 1); // the line without its newline
        }
    }

    /**
     * Hands each record's bytes (the line without its newline) to {@code sink} as well, after
     * the line is written: an exporter sends what stdout shows, encoded once.
     */
    public JsonLinesWriter alsoTo(EncodedExchangeSink sink) {
        this.encoded = sink;
        return this;
    }

    /** Writes pending records to the stream and flushes it. */
    @Override
    public void flush() throws IOException {
        buffer.flushOut();
    }

    private void record(Exchange x) {
        JsonOut g = gen;
        Request rq = x.request();
        Response rs = x.response();
        TraceInfo t = x.trace();

        g.startObject();

        g.field(TIMESTAMP);
        g.ascii(scratch, 0, Formats.rfc3339Micros(rq.timestampNanos(), scratch, 0));

        if (rs != null) {
            g.field(EVENT);
            g.startObject();
            g.field(DURATION);
            g.number(Math.max(0L, rs.timestampNanos() - rq.timestampNanos()));
            g.endObject();
        }

        g.field(NETWORK);
        g.startObject();
        g.field(TRANSPORT);
        g.raw(TCP);
        if (x.tls() == null || x.tls().socketKnown()) {
            g.field(TYPE);
            g.raw(x.ipv6() ? IPV6 : IPV4);
        }
        g.field(PROTOCOL);
        g.startObject();
        g.field(NAME);
        g.raw(HTTP_NAME);
        if (rq.version() != null) {
            g.field(VERSION);
            text(rq.version());
        }
        g.endObject();
        g.endObject();

        Exchange.Tls tls = x.tls();
        endpoint(CLIENT, x.client(), tls == null ? null : tls.clientProcess());
        endpoint(SERVER, x.server(), tls == null ? null : tls.serverProcess());

        Exchange.Http2 h2 = x.http2();
        String scheme = h2 != null && h2.scheme() != null ? h2.scheme() : tls != null ? "https" : null;
        if (rq.target() != null) url(rq, scheme); // a malformed request line has no target

        List<Header> rqHeaders = rq.headers();
        int rqCount = rqHeaders == null ? 0 : rqHeaders.size();
        requestNames = names(rqHeaders, rqCount, requestNames);
        userAgent(rqHeaders, rqCount, requestNames);

        g.field(HTTP);
        g.startObject();
        g.field(REQUEST);
        g.startObject();
        method(rq.method());
        headers(HEADERS, rqHeaders, rqCount, requestNames);
        body(rq.bodySize());
        g.endObject();
        if (rs != null) {
            g.field(RESPONSE);
            g.startObject();
            status(rs);
            List<Header> rsHeaders = rs.headers();
            int rsCount = rsHeaders == null ? 0 : rsHeaders.size();
            responseNames = names(rsHeaders, rsCount, responseNames);
            headers(HEADERS, rsHeaders, rsCount, responseNames);
            if (h2 != null && !h2.trailers().isEmpty()) {
                List<Header> tr = h2.trailers();
                responseNames = names(tr, tr.size(), responseNames);
                headers(TRAILERS, tr, tr.size(), responseNames);
            }
            body(rs.bodySize());
            g.endObject();
        }
        g.endObject();
        if (h2 != null && h2.grpc() != null) rpc(h2.grpc());

        g.field(HTTPTRACE);
        g.startObject();
        g.field(SCHEMA_VERSION_F);
        g.number(SCHEMA_VERSION);
        String ifname = interfaceNames.name(x.ifindex());
        if (ifname != null) {
            g.field(INTERFACE);
            text(ifname);
        }
        g.field(GAP);
        g.bool(t != null && t.gap());
        g.field(TRUNCATED);
        g.bool(rq.headTruncated() || (rs != null && rs.headTruncated()));
        g.field(UPGRADED);
        g.bool(t != null && t.upgraded());
        g.field(RETRANSMISSIONS);
        g.number(t == null ? 0L : t.retransmissions());
        if (rs == null && t != null && t.unanswered() != null) {
            g.field(UNANSWERED);
            text(t.unanswered());
        }
        anomalies(t);
        malformedRequest(t);
        if (h2 != null) http2(h2, rq.timestampNanos());
        if (tls != null) {
            g.field(TLS);
            g.startObject();
            g.field(ATTRIBUTION);
            g.raw(tls.socketKnown() ? SOCKET : UNKNOWN);
            g.endObject();
        }
        g.endObject();

        g.endObject();
        g.newline();
    }

    /** The method; null when the request line could not be parsed. */
    private void method(String method) {
        gen.field(METHOD);
        if (method == null) {
            gen.nullValue();
        } else {
            text(method);
        }
    }

    /** Status code and reason; neither for the answer to an HTTP/0.9 request, which has no status line. */
    private void status(Response rs) {
        if (rs.statusCode() == 0) return;
        gen.field(STATUS_CODE);
        gen.number(rs.statusCode());
        if (rs.reason() != null) { // HTTP/2 has none
            gen.field(REASON);
            text(rs.reason());
        }
    }

    private void http2(Exchange.Http2 h2, long requestNanos) {
        JsonOut g = gen;
        g.field(HTTP2);
        g.startObject();
        g.field(STREAM_ID);
        g.number(h2.streamId());
        g.field(END);
        text(h2.end());
        if (h2.endTimestampNanos() != 0) {
            g.field(END_DURATION);
            g.number(Math.max(0L, h2.endTimestampNanos() - requestNanos));
        }
        if (h2.reset() != null) {
            g.field(RST_STREAM);
            g.startObject();
            g.field(ERROR);
            text(h2.reset().error());
            g.field(CODE);
            g.number(h2.reset().errorCode());
            g.field(BY);
            text(h2.reset().by());
            g.endObject();
        }
        if (h2.goAway() != null) {
            g.field(GOAWAY);
            g.startObject();
            g.field(LAST_STREAM_ID);
            g.number(h2.goAway().lastStreamId());
            g.field(ERROR);
            text(h2.goAway().error());
            g.field(CODE);
            g.number(h2.goAway().errorCode());
            g.endObject();
        }
        g.field(UNKNOWN_FIELDS);
        g.number(h2.unknownFields());
        g.field(JOINED_MID_STREAM);
        g.bool(h2.joinedMidStream());
        g.field(REQUEST_HEADERS_SEEN);
        g.bool(h2.requestHeadersSeen());
        if (h2.pushedBy() != 0) {
            g.field(PUSHED_BY);
            g.number(h2.pushedBy());
        }
        g.endObject();
    }

    /** OpenTelemetry's rpc.* attributes of a gRPC call. */
    private void rpc(Exchange.Grpc c) {
        JsonOut g = gen;
        g.field(RPC);
        g.startObject();
        g.field(SYSTEM);
        g.raw(GRPC_NAME);
        if (c.service() != null) {
            g.field(SERVICE);
            text(c.service());
            g.field(METHOD);
            text(c.method());
        }
        g.field(GRPC);
        g.startObject();
        if (c.statusCode() != null) {
            g.field(STATUS_CODE);
            g.number(c.statusCode());
        }
        if (c.message() != null) {
            g.field(MESSAGE);
            text(c.message());
        }
        if (c.requestMessages() >= 0) {
            g.field(REQUEST_MESSAGES);
            g.number(c.requestMessages());
        }
        if (c.responseMessages() >= 0) {
            g.field(RESPONSE_MESSAGES);
            g.number(c.responseMessages());
        }
        g.endObject();
        g.endObject();
    }

    /** httptrace.anomalies: what was wrong with the messages' framing, only when something was. */
    private void anomalies(TraceInfo t) {
        if (t == null || t.anomalies().isEmpty()) return;
        gen.field(ANOMALIES);
        gen.startArray();
        for (String a : t.anomalies()) {
            gen.string(a);
        }
        gen.endArray();
    }

    /** httptrace.malformed_request: the request line as sent, only when it could not be parsed. */
    private void malformedRequest(TraceInfo t) {
        if (t == null || t.malformedRequest() == null) return;
        gen.field(MALFORMED_REQUEST);
        text(t.malformedRequest());
    }

    /** An end: its address and port (unless a TLS stream's socket is unknown), and its process (TLS only). */
    private void endpoint(byte[] field, Exchange.Endpoint e, ProcessInfo process) {
        JsonOut g = gen;
        g.field(field);
        g.startObject();
        if (e.address().length != 0) {
            g.field(ADDRESS);
            g.ascii(scratch, 0, Formats.address(e.address(), scratch, 0));
            g.field(PORT);
            g.number(e.port());
        }
        if (process != null) {
            g.field(PROCESS);
            g.startObject();
            g.field(PID);
            g.number(process.pid());
            g.field(NAME);
            text(process.name());
            if (process.executable() != null) {
                g.field(EXECUTABLE);
                text(process.executable());
            }
            g.field(THREAD);
            g.startObject();
            g.field(ID);
            g.number(process.tid());
            g.field(NAME);
            text(process.threadName());
            g.endObject();
            g.endObject();
        }
        g.endObject();
    }

    private void url(Request rq, String scheme) {
        JsonOut g = gen;
        String original = rq.target() == null ? "" : Formats.wellFormed(rq.target());
        Target tg = target;
        tg.parse(rq.method(), original);
        g.field(URL);
        g.startObject();
        g.field(ORIGINAL);
        g.string(options.showSecrets() ? original : tg.redactedOriginal());
        if (tg.schemeStart >= 0) {
            g.field(SCHEME);
            g.string(original.substring(tg.schemeStart, tg.schemeEnd).toLowerCase(Locale.ROOT));
        } else if (scheme != null) {
            g.field(SCHEME); // HTTP/2's :scheme, or https for TLS plaintext
            text(scheme);
        }
        if (tg.domainStart >= 0) {
            g.field(DOMAIN);
            gen.string(original, tg.domainStart, tg.domainEnd);
        }
        if (tg.port >= 0) {
            g.field(PORT);
            g.number(tg.port);
        }
        if (tg.pathStart >= 0) {
            g.field(PATH);
            gen.string(original, tg.pathStart, tg.pathEnd);
        }
        if (tg.queryStart >= 0) {
            g.field(QUERY);
            gen.string(original, tg.queryStart, tg.queryEnd);
        }
        g.endObject();
    }

    private void body(long size) {
        JsonOut g = gen;
        g.field(BODY);
        g.startObject();
        g.field(SIZE);
        g.number(size);
        g.endObject();
    }

    /**
     * A header name as written: lower-cased, pre-encoded for the generator, whether its
     * value is redacted and whether it is selected for the header maps. Names are few; they
     * are cached (bounded) so that the hot path neither lower-cases nor probes the
     * redaction and selection sets per header.
     */
    private record Name(String lower, byte[] json, boolean redacted, boolean selected) {}

    private Name name(String raw) {
        String key = raw == null ? "" : raw;
        Name n = nameCache.get(key);
        if (n == null) {
            String lower = Formats.wellFormed(key.toLowerCase(Locale.ROOT));
            n = new Name(lower, JsonOut.name(lower), options.redacts(lower), options.headers().includes(lower));
            if (nameCache.size() >= NAME_CACHE_MAX) {
                nameCache.clear(); // a flood of odd names: start over rather than grow
            }
            nameCache.put(key, n);
        }
        return n;
    }

    /** Fills (a possibly grown copy of) {@code into} with the names of the first n headers. */
    private Name[] names(List<Header> headers, int n, Name[] into) {
        if (into.length < n) {
            into = new Name[Math.max(n, into.length * 2)];
        }
        for (int i = 0; i < n; i++) {
            into[i] = name(headers.get(i).name());
        }
        return into;
    }

    /** Writes user_agent.original when there is a User-Agent (repeated ones joined like in the header map). */
    private void userAgent(List<Header> headers, int n, Name[] names) {
        int first = -1;
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (USER_AGENT_NAME.equals(names[i].lower())) {
                if (first < 0) {
                    first = i;
                }
                count++;
            }
        }
        if (first < 0) {
            return;
        }
        JsonOut g = gen;
        g.field(USER_AGENT);
        g.startObject();
        g.field(ORIGINAL);
        if (names[first].redacted() || sensitive(headers, n, names, first)) {
            g.raw(REDACTED);
        } else if (count == 1) {
            text(value(headers.get(first)));
        } else {
            text(joined(headers, n, names, first));
        }
        g.endObject();
    }

    private static String value(Header h) {
        return h.value() == null ? "" : h.value();
    }

    /** The values of all headers named like names[first], in order, joined with ", ". */
    private String joined(List<Header> headers, int n, Name[] names, int first) {
        String lower = names[first].lower();
        StringBuilder b = joined;
        b.setLength(0);
        b.append(value(headers.get(first)));
        for (int j = first + 1; j < n; j++) {
            if (names[j].lower().equals(lower)) {
                b.append(", ").append(value(headers.get(j)));
            }
        }
        String s = b.toString();
        if (b.length() > 4096) {
            b.setLength(0);
            b.trimToSize();
        }
        return s;
    }

    /**
     * Writes the header map: the selected names lower-cased, in order of first appearance,
     * repeated names joined with ", " in order, redacted values replaced.
     */
    private void headers(byte[] field, List<Header> headers, int n, Name[] names) {
        JsonOut g = gen;
        g.field(field);
        g.startObject();
        outer:
        for (int i = 0; i < n; i++) {
            Name name = names[i];
            if (!name.selected()) {
                continue;
            }
            String lower = name.lower();
            for (int j = 0; j < i; j++) {
                if (names[j] == name || names[j].lower().equals(lower)) {
                    continue outer; // already written, joined with its first occurrence
                }
            }
            g.field(name.json());
            if (name.redacted() || sensitive(headers, n, names, i)) {
                g.raw(REDACTED);
                continue;
            }
            boolean repeated = false;
            for (int j = i + 1; j < n; j++) {
                if (names[j] == name || names[j].lower().equals(lower)) {
                    repeated = true;
                    break;
                }
            }
            text(repeated ? joined(headers, n, names, i) : value(headers.get(i)));
        }
        Arrays.fill(names, 0, n, null);
        g.endObject();
    }

    /** An occurrence of the header named at {@code first} was sent never-indexed (HPACK): its values are secret. */
    private boolean sensitive(List<Header> headers, int n, Name[] names, int first) {
        if (options.showSecrets()) return false;
        for (int j = first; j < n; j++) {
            if ((names[j] == names[first] || names[j].lower().equals(names[first].lower())) && headers.get(j).sensitive()) {
                return true;
            }
        }
        return false;
    }

    /** Writes text from the traced traffic, with unpaired surrogates replaced by U+FFFD. */
    private void text(String s) {
        gen.string(s); // unpaired surrogates become U+FFFD there
    }
}
