package dev.httptrace.output;

import dev.httptrace.http.Exchange;
import dev.httptrace.http.Exchange.Request;
import dev.httptrace.http.Exchange.Response;
import dev.httptrace.http.Exchange.TraceInfo;
import dev.httptrace.http.ExchangeSink;

import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;

/**
 * One human-readable line per exchange, for terminals:
 *
 * <pre>
 * 16:40:01.123456 lo 127.0.0.1:54321 -&gt; 127.0.0.1:8080 GET /hello -&gt; 200 OK 1.234 ms req 0 B resp 5 B
 * 16:40:02.000001 lo [::1]:40000 -&gt; [::1]:8080 POST /upload req 10 B [unanswered: timeout]
 * </pre>
 *
 * Time of day of the request's first byte in the local time zone, with microseconds (as
 * tcpdump prints it); the interface (omitted when unknown); client -&gt; server; method and
 * target; then {@code -> status reason}, the latency in milliseconds and the body sizes, or
 * for an unanswered request only its body size. Markers at the end: {@code [unanswered: why]},
 * {@code [gap]}, {@code [truncated]}, {@code [upgraded]}, {@code [retransmissions: n]}.
 *
 * <p>Text from the traffic is printed with control characters escaped ({@code \x1b}), so a
 * traced request cannot send escape sequences to the terminal. Headers are not printed.
 * Buffering and flushing as in {@link JsonLinesWriter}. Not thread-safe.
 */
public final class TextWriter implements ExchangeSink, Flushable {

    private final OutputOptions options;
    private final InterfaceNameCache interfaceNames;
    private final LineBuffer buffer;
    private final ZoneRules zone;
    private final StringBuilder line = new StringBuilder(256);
    private final char[] scratch = new char[64];
    private final Target target = new Target();

    // Cached UTC offset, valid for epoch seconds in [offsetFrom, offsetUntil).
    private long offsetFrom = 1, offsetUntil = 0;
    private int offsetSeconds;


    public TextWriter(OutputStream out, OutputOptions options) {
        this(out, options, ZoneId.systemDefault());
    }

    /** With an explicit time zone (tests). */
    TextWriter(OutputStream out, OutputOptions options, ZoneId zone) {
        this.options = options == null ? OutputOptions.defaults() : options;
        this.interfaceNames = new InterfaceNameCache(this.options.interfaceNames());
        this.buffer = new LineBuffer(out);
        this.zone = zone.getRules();
    }

    /** Writes one line. Does not flush. @throws UncheckedIOException when writing fails */
    @Override
    public void exchange(Exchange x) {
        line.setLength(0);
        format(x, line);
        byte[] bytes = line.toString().getBytes(StandardCharsets.UTF_8);
        buffer.write(bytes, 0, bytes.length);
        buffer.commit();
    }

    /** Writes pending lines to the stream and flushes it. */
    @Override
    public void flush() throws IOException {
        buffer.flushOut();
    }

    private void format(Exchange x, StringBuilder b) {
        Request rq = x.request();
        Response rs = x.response();
        TraceInfo t = x.trace();

        localTime(rq.timestampNanos(), b);
        String ifname = interfaceNames.name(x.ifindex());
        if (ifname != null) {
            b.append(' ');
            escaped(ifname, b);
        }
        b.append(' ');
        endpoint(x.client(), b);
        b.append(" -> ");
        endpoint(x.server(), b);
        b.append(' ');
        if (t != null && t.malformedRequest() != null) {
            malformed(t.malformedRequest(), b);
        } else {
            escaped(rq.method() == null ? "" : rq.method(), b);
            b.append(' ');
            String tg = rq.target() == null ? "" : rq.target();
            if (!options.showSecrets()) {
                target.parse(rq.method(), tg);
                tg = target.redactedOriginal();
            }
            escaped(tg, b);
        }
        if (rs != null) {
            b.append(" -> ");
            status(rs, b);
            if (rs.reason() != null && !rs.reason().isEmpty()) {
                b.append(' ');
                escaped(rs.reason(), b);
            }
            b.append(' ');
            millis(Math.max(0L, rs.timestampNanos() - rq.timestampNanos()), b);
            b.append(" ms req ").append(rq.bodySize()).append(" B resp ").append(rs.bodySize()).append(" B");
        } else {
            b.append(" req ").append(rq.bodySize()).append(" B");
            b.append(" [unanswered: ");
            escaped(t == null || t.unanswered() == null ? "unknown" : t.unanswered(), b);
            b.append(']');
        }
        if (t != null && t.gap()) {
            b.append(" [gap]");
        }
        if (rq.headTruncated() || (rs != null && rs.headTruncated())) {
            b.append(" [truncated]");
        }
        if (t != null && t.upgraded()) {
            b.append(" [upgraded]");
        }
        anomalies(t, b);
        if (t != null && t.retransmissions() > 0) {
            b.append(" [retransmissions: ").append(t.retransmissions()).append(']');
        }
        b.append('\n');
    }

    private void localTime(long epochNanos, StringBuilder b) {
        long secs = Math.floorDiv(epochNanos, 1_000_000_000L);
        int micros = (int) (Math.floorMod(epochNanos, 1_000_000_000L) / 1000);
        if (secs < offsetFrom || secs >= offsetUntil) {
            updateOffset(secs);
        }
        int secOfDay = (int) Math.floorMod(secs + offsetSeconds, 86_400L);
        int n = Formats.timeOfDayMicros(secOfDay, micros, scratch, 0);
        b.append(scratch, 0, n);
    }

    private void updateOffset(long secs) {
        Instant now = Instant.ofEpochSecond(secs);
        offsetSeconds = zone.getOffset(now).getTotalSeconds();
        ZoneOffsetTransition prev = zone.previousTransition(now.plusSeconds(1));
        ZoneOffsetTransition next = zone.nextTransition(now);
        offsetFrom = prev == null ? Long.MIN_VALUE : prev.toEpochSecond();
        offsetUntil = next == null ? Long.MAX_VALUE : next.toEpochSecond();
        if (secs < offsetFrom || secs >= offsetUntil) { // defensive: never cache a wrong window
            offsetFrom = secs;
            offsetUntil = secs + 1;
        }
    }

    private void endpoint(Exchange.Endpoint e, StringBuilder b) {
        int n = Formats.address(e.address(), scratch, 0);
        if (e.address().length == 16) {
            b.append('[').append(scratch, 0, n).append(']');
        } else {
            b.append(scratch, 0, n);
        }
        b.append(':').append(e.port());
    }

    /** Nanoseconds as milliseconds with three decimals (truncated). */
    private static void millis(long nanos, StringBuilder b) {
        long micros = nanos / 1000;
        b.append(micros / 1000).append('.');
        int frac = (int) (micros % 1000);
        if (frac < 100) {
            b.append('0');
        }
        if (frac < 10) {
            b.append('0');
        }
        b.append(frac);
    }

    /** A request line that could not be parsed, as sent. */
    private static void malformed(String line, StringBuilder b) {
        b.append("[malformed request: ");
        escaped(line, b);
        b.append(']');
    }

    /** The status code, or HTTP/0.9 for the answer to a simple request (no status line). */
    private static void status(Response rs, StringBuilder b) {
        if (rs.statusCode() == 0) {
            b.append("HTTP/0.9");
        } else {
            b.append(rs.statusCode());
        }
    }

    private static void anomalies(TraceInfo t, StringBuilder b) {
        if (t == null || t.anomalies().isEmpty()) return;
        b.append(" [anomalies: ");
        escaped(String.join(", ", t.anomalies()), b);
        b.append(']');
    }

    /**
     * Appends s with C0 controls, DEL, C1 controls and unpaired surrogates escaped as
     * {@code \xNN} / {@code \\uNNNN}, and backslashes doubled, so that the line is one line
     * and safe to print on a terminal.
     */
    static void escaped(String s, StringBuilder b) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                b.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
            } else if (c == '\\') {
                b.append("\\\\");
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c) || c == '\u2028' || c == '\u2029' || c == '\u202e') {
                b.append("\\u").append(String.format("%04x", (int) c));
            } else {
                b.append(c);
            }
        }
    }
}
