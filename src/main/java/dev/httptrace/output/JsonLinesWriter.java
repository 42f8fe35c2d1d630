package dev.httptrace.output;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import dev.httptrace.http.Exchange;
import dev.httptrace.http.Exchange.Header;
import dev.httptrace.http.Exchange.Request;
import dev.httptrace.http.Exchange.Response;
import dev.httptrace.http.Exchange.TraceInfo;
import dev.httptrace.http.ExchangeSink;

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

    private static final JsonFactory FACTORY = new JsonFactoryBuilder()
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .disable(StreamWriteFeature.AUTO_CLOSE_CONTENT)
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
            .rootValueSeparator((SerializableString) null)
            .build();

    private static SerializedString s(String v) {
        return new SerializedString(v);
    }

    private static final SerializedString TIMESTAMP = s("timestamp"), EVENT = s("event"),
            DURATION = s("duration"), NETWORK = s("network"), TRANSPORT = s("transport"),
            TYPE = s("type"), PROTOCOL = s("protocol"), NAME = s("name"), VERSION = s("version"),
            CLIENT = s("client"), SERVER = s("server"), ADDRESS = s("address"), PORT = s("port"),
            URL = s("url"), ORIGINAL = s("original"), SCHEME = s("scheme"), DOMAIN = s("domain"),
            PATH = s("path"), QUERY = s("query"), USER_AGENT = s("user_agent"), HTTP = s("http"),
            REQUEST = s("request"), METHOD = s("method"), HEADERS = s("headers"), BODY = s("body"),
            SIZE = s("size"), RESPONSE = s("response"), STATUS_CODE = s("status_code"),
            REASON = s("reason"), HTTPTRACE = s("httptrace"), SCHEMA_VERSION_F = s("schema_version"),
            INTERFACE = s("interface"), GAP = s("gap"), TRUNCATED = s("truncated"),
            UPGRADED = s("upgraded"), RETRANSMISSIONS = s("retransmissions"),
            UNANSWERED = s("unanswered");
    private static final SerializedString TCP = s("tcp"), IPV4 = s("ipv4"), IPV6 = s("ipv6"),
            HTTP_NAME = s("http"), REDACTED = s(OutputOptions.REDACTED);

    private static final SerializedString ANOMALIES = s("anomalies"), MALFORMED_REQUEST = s("malformed_request");
    private static final int MAX_SLICE_BUF = 16 * 1024;
    private static final int NAME_CACHE_MAX = 1024;
    private static final String USER_AGENT_NAME = "user-agent";

    private final OutputOptions options;
    private final InterfaceNameCache interfaceNames;
    private final LineBuffer buffer;
    private JsonGenerator gen;
    // Reused per record: nothing below is allocated on the hot path.
    private final char[] scratch = new char[64];
    private char[] sliceBuf = new char[256];
    private final Target target = new Target();
    private final StringBuilder joined = new StringBuilder();
    private Name[] requestNames = new Name[32];
    private Name[] responseNames = new Name[32];
    private final HashMap<String, Name> nameCache = new HashMap<>();

    public JsonLinesWriter(OutputStream out, OutputOptions options) {
        this.options = options == null ? OutputOptions.defaults() : options;
        this.interfaceNames = new InterfaceNameCache(this.options.interfaceNames());
        this.buffer = new LineBuffer(out);
        this.gen = newGenerator();
    }

    private JsonGenerator newGenerator() {
        try {
            return FACTORY.createGenerator(buffer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        try {
            record(x);
            gen.flush(); // generator's own buffer -> line buffer (not the stream)
        } catch (IOException | RuntimeException e) {
            // A generation failure leaves the generator mid-object: drop it and what it
            // wrote of this record, and start a fresh one.
            try {
                gen.close(); // releases its buffers; may flush part of the record, dropped next
            } catch (IOException | RuntimeException ignored) {
                // it is being discarded anyway
            }
            buffer.rollback();
            gen = newGenerator();
            if (e instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw (RuntimeException) e;
        }
        buffer.commit();
    }

    /** Writes pending records to the stream and flushes it. */
    @Override
    public void flush() throws IOException {
        buffer.flushOut();
    }

    private void record(Exchange x) throws IOException {
        JsonGenerator g = gen;
        Request rq = x.request();
        Response rs = x.response();
        TraceInfo t = x.trace();

        g.writeStartObject();

        g.writeFieldName(TIMESTAMP);
        g.writeString(scratch, 0, Formats.rfc3339Micros(rq.timestampNanos(), scratch, 0));

        if (rs != null) {
            g.writeFieldName(EVENT);
            g.writeStartObject();
            g.writeFieldName(DURATION);
            g.writeNumber(Math.max(0L, rs.timestampNanos() - rq.timestampNanos()));
            g.writeEndObject();
        }

        g.writeFieldName(NETWORK);
        g.writeStartObject();
        g.writeFieldName(TRANSPORT);
        g.writeString(TCP);
        g.writeFieldName(TYPE);
        g.writeString(x.ipv6() ? IPV6 : IPV4);
        g.writeFieldName(PROTOCOL);
        g.writeStartObject();
        g.writeFieldName(NAME);
        g.writeString(HTTP_NAME);
        if (rq.version() != null) {
            g.writeFieldName(VERSION);
            text(rq.version());
        }
        g.writeEndObject();
        g.writeEndObject();

        endpoint(CLIENT, x.client());
        endpoint(SERVER, x.server());

        if (rq.target() != null) url(rq); // a malformed request line has no target

        List<Header> rqHeaders = rq.headers();
        int rqCount = rqHeaders == null ? 0 : rqHeaders.size();
        requestNames = names(rqHeaders, rqCount, requestNames);
        userAgent(rqHeaders, rqCount, requestNames);

        g.writeFieldName(HTTP);
        g.writeStartObject();
        g.writeFieldName(REQUEST);
        g.writeStartObject();
        method(rq.method());
        headers(rqHeaders, rqCount, requestNames);
        body(rq.bodySize());
        g.writeEndObject();
        if (rs != null) {
            g.writeFieldName(RESPONSE);
            g.writeStartObject();
            status(rs);
            List<Header> rsHeaders = rs.headers();
            int rsCount = rsHeaders == null ? 0 : rsHeaders.size();
            responseNames = names(rsHeaders, rsCount, responseNames);
            headers(rsHeaders, rsCount, responseNames);
            body(rs.bodySize());
            g.writeEndObject();
        }
        g.writeEndObject();

        g.writeFieldName(HTTPTRACE);
        g.writeStartObject();
        g.writeFieldName(SCHEMA_VERSION_F);
        g.writeNumber(SCHEMA_VERSION);
        String ifname = interfaceNames.name(x.ifindex());
        if (ifname != null) {
            g.writeFieldName(INTERFACE);
            text(ifname);
        }
        g.writeFieldName(GAP);
        g.writeBoolean(t != null && t.gap());
        g.writeFieldName(TRUNCATED);
        g.writeBoolean(rq.headTruncated() || (rs != null && rs.headTruncated()));
        g.writeFieldName(UPGRADED);
        g.writeBoolean(t != null && t.upgraded());
        g.writeFieldName(RETRANSMISSIONS);
        g.writeNumber(t == null ? 0L : t.retransmissions());
        if (rs == null && t != null && t.unanswered() != null) {
            g.writeFieldName(UNANSWERED);
            text(t.unanswered());
        }
        anomalies(t);
        malformedRequest(t);
        g.writeEndObject();

        g.writeEndObject();
        g.writeRaw('\n');
    }

    /** The method; null when the request line could not be parsed. */
    private void method(String method) throws IOException {
        gen.writeFieldName(METHOD);
        if (method == null) {
            gen.writeNull();
        } else {
            text(method);
        }
    }

    /** Status code and reason; neither for the answer to an HTTP/0.9 request, which has no status line. */
    private void status(Response rs) throws IOException {
        if (rs.statusCode() == 0) return;
        gen.writeFieldName(STATUS_CODE);
        gen.writeNumber(rs.statusCode());
        gen.writeFieldName(REASON);
        text(rs.reason() == null ? "" : rs.reason());
    }

    /** httptrace.anomalies: what was wrong with the messages' framing, only when something was. */
    private void anomalies(TraceInfo t) throws IOException {
        if (t == null || t.anomalies().isEmpty()) return;
        gen.writeFieldName(ANOMALIES);
        gen.writeStartArray();
        for (String a : t.anomalies()) {
            gen.writeString(a);
        }
        gen.writeEndArray();
    }

    /** httptrace.malformed_request: the request line as sent, only when it could not be parsed. */
    private void malformedRequest(TraceInfo t) throws IOException {
        if (t == null || t.malformedRequest() == null) return;
        gen.writeFieldName(MALFORMED_REQUEST);
        text(t.malformedRequest());
    }

    private void endpoint(SerializedString field, Exchange.Endpoint e) throws IOException {
        JsonGenerator g = gen;
        g.writeFieldName(field);
        g.writeStartObject();
        g.writeFieldName(ADDRESS);
        g.writeString(scratch, 0, Formats.address(e.address(), scratch, 0));
        g.writeFieldName(PORT);
        g.writeNumber(e.port());
        g.writeEndObject();
    }

    private void url(Request rq) throws IOException {
        JsonGenerator g = gen;
        String original = rq.target() == null ? "" : Formats.wellFormed(rq.target());
        Target tg = target;
        tg.parse(rq.method(), original);
        g.writeFieldName(URL);
        g.writeStartObject();
        g.writeFieldName(ORIGINAL);
        g.writeString(options.showSecrets() ? original : tg.redactedOriginal());
        if (tg.schemeStart >= 0) {
            g.writeFieldName(SCHEME);
            g.writeString(original.substring(tg.schemeStart, tg.schemeEnd).toLowerCase(Locale.ROOT));
        }
        if (tg.domainStart >= 0) {
            g.writeFieldName(DOMAIN);
            slice(original, tg.domainStart, tg.domainEnd);
        }
        if (tg.port >= 0) {
            g.writeFieldName(PORT);
            g.writeNumber(tg.port);
        }
        if (tg.pathStart >= 0) {
            g.writeFieldName(PATH);
            slice(original, tg.pathStart, tg.pathEnd);
        }
        if (tg.queryStart >= 0) {
            g.writeFieldName(QUERY);
            slice(original, tg.queryStart, tg.queryEnd);
        }
        g.writeEndObject();
    }

    /** Writes s[from, to) as a JSON string without a substring. */
    private void slice(String s, int from, int to) throws IOException {
        int len = to - from;
        if (len > sliceBuf.length) {
            if (len > MAX_SLICE_BUF) {
                gen.writeString(s.substring(from, to));
                return;
            }
            sliceBuf = new char[Math.max(len, 2 * sliceBuf.length)];
        }
        s.getChars(from, to, sliceBuf, 0);
        gen.writeString(sliceBuf, 0, len);
    }

    private void body(long size) throws IOException {
        JsonGenerator g = gen;
        g.writeFieldName(BODY);
        g.writeStartObject();
        g.writeFieldName(SIZE);
        g.writeNumber(size);
        g.writeEndObject();
    }

    /**
     * A header name as written: lower-cased, pre-encoded for the generator, whether its
     * value is redacted and whether it is selected for the header maps. Names are few; they
     * are cached (bounded) so that the hot path neither lower-cases nor probes the
     * redaction and selection sets per header.
     */
    private record Name(String lower, SerializedString json, boolean redacted, boolean selected) {}

    private Name name(String raw) {
        String key = raw == null ? "" : raw;
        Name n = nameCache.get(key);
        if (n == null) {
            String lower = Formats.wellFormed(key.toLowerCase(Locale.ROOT));
            n = new Name(lower, new SerializedString(lower), options.redacts(lower), options.headers().includes(lower));
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
    private void userAgent(List<Header> headers, int n, Name[] names) throws IOException {
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
        JsonGenerator g = gen;
        g.writeFieldName(USER_AGENT);
        g.writeStartObject();
        g.writeFieldName(ORIGINAL);
        if (names[first].redacted()) {
            g.writeString(REDACTED);
        } else if (count == 1) {
            text(value(headers.get(first)));
        } else {
            text(joined(headers, n, names, first));
        }
        g.writeEndObject();
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
    private void headers(List<Header> headers, int n, Name[] names) throws IOException {
        JsonGenerator g = gen;
        g.writeFieldName(HEADERS);
        g.writeStartObject();
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
            g.writeFieldName(name.json());
            if (name.redacted()) {
                g.writeString(REDACTED);
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
        g.writeEndObject();
    }

    /** Writes text from the traced traffic, with unpaired surrogates replaced by U+FFFD. */
    private void text(String s) throws IOException {
        gen.writeString(Formats.wellFormed(s));
    }
}
