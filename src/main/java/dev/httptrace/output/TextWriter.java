package dev.httptrace.output;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.Exchange.Request;
import dev.httptrace.exchange.Exchange.Response;
import dev.httptrace.exchange.Exchange.TraceInfo;
import dev.httptrace.exchange.ExchangeSink;

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
 * One human-readable line per exchange, for terminals, in aligned columns:
 *
 * <pre>
 * 16:40:01.123456 lo    127.0.0.1:54321       -&gt; 127.0.0.1:8080        200 GET       1.234 ms     0 B     5 B /hello
 * 16:40:02.000001 lo    [::1]:40000           -&gt; [::1]:8080            --- POST                   10 B       - /upload [unanswered: timeout]
 * 16:40:02.500000 lo    127.0.0.1:40002       -&gt; 127.0.0.1:8443        200 GET       2.000 ms     0 B     5 B /x [https: curl[4242] -&gt; nginx[17]]
 * </pre>
 *
 * Time of day of the request's first byte in the local time zone, with microseconds (as
 * tcpdump prints it), preceded by the date when the request is not from the day the writer
 * started (an offline capture, a trace past midnight); the interface ({@code -} when unknown),
 * in a column as wide as the longest interface name expected (widened, once, by a longer
 * one); client -&gt; server; the status
 * ({@code ---} when unanswered); the method; the latency in milliseconds; the request and
 * response body sizes; the target last, as it varies most. Markers at the end:
 * {@code [unanswered: why]}, {@code [gap]}, {@code [truncated]}, {@code [upgraded]},
 * {@code [retransmissions: n]}, and for an exchange read from TLS plaintext
 * {@code [https: client -> server]} with the process at each end ({@code name[pid]}, {@code ?}
 * for an end that was not traced). Columns are padded to fixed widths (an IPv6 endpoint may
 * push the rest of its line right). With colour, the status is coloured by its class
 * (2xx green, 3xx cyan, 4xx yellow, 5xx red, unanswered magenta).
 *
 * <p>Text from the traffic is printed with control characters escaped ({@code \x1b}), so a
 * traced request cannot send escape sequences to the terminal. Headers are not printed.
 * Buffering and flushing as in {@link JsonLinesWriter}. Not thread-safe.
 */
public final class TextWriter implements ExchangeSink, Flushable {

    private static final String[] SIZE_UNITS = {" KiB", " MiB", " GiB", " TiB"};
    /** The narrowest interface column (fits "lo", "eth0", "ens3"). */
    public static final int MIN_IFACE_WIDTH = 5;
    /** The widest interface column: Linux names have at most 15 characters (IFNAMSIZ - 1). */
    public static final int MAX_IFACE_WIDTH = 15;
    private static final int ENDPOINT_WIDTH = 21, METHOD_WIDTH = 7, LATENCY_WIDTH = 11,
            SIZE_WIDTH = 7;

    private final OutputOptions options;
    private final boolean colour;
    private final InterfaceNameCache interfaceNames;
    private final LineBuffer buffer;
    private final ZoneRules zone;
    /** Local epoch day the writer started on; a record of another day is printed with its date. */
    private final long today;
    private int ifaceWidth;
    private final StringBuilder line = new StringBuilder(256);
    private final char[] scratch = new char[64];
    private final Target target = new Target();

    // Cached UTC offset, valid for epoch seconds in [offsetFrom, offsetUntil).
    private long offsetFrom = 1, offsetUntil = 0;
    private int offsetSeconds;


    public TextWriter(OutputStream out, OutputOptions options) {
        this(out, options, false);
    }

    /** @param colour colour the status by its class with ANSI escapes (for terminals) */
    public TextWriter(OutputStream out, OutputOptions options, boolean colour) {
        this(out, options, colour, MIN_IFACE_WIDTH);
    }

    /**
     * @param colour         colour the status by its class with ANSI escapes (for terminals)
     * @param interfaceWidth width of the interface column: the longest name expected (this
     *                       host's interfaces); clamped to {@value #MIN_IFACE_WIDTH}..{@value #MAX_IFACE_WIDTH}
     */
    public TextWriter(OutputStream out, OutputOptions options, boolean colour, int interfaceWidth) {
        this(out, options, ZoneId.systemDefault(), colour, java.time.LocalDate.now().toEpochDay(), interfaceWidth);
    }

    /** With an explicit time zone, for a writer that started on the day of T0 in that zone (tests). */
    TextWriter(OutputStream out, OutputOptions options, ZoneId zone, boolean colour) {
        this(out, options, zone, colour, Long.MIN_VALUE, MIN_IFACE_WIDTH);
    }

    /** @param today local epoch day the trace started; {@code Long.MIN_VALUE}: never print dates */
    TextWriter(OutputStream out, OutputOptions options, ZoneId zone, boolean colour, long today, int interfaceWidth) {
        this.today = today;
        this.ifaceWidth = Math.clamp(interfaceWidth, MIN_IFACE_WIDTH, MAX_IFACE_WIDTH);
        this.colour = colour;
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
        b.append(' ');
        int at = b.length();
        if (ifname == null) {
            b.append('-');
        } else {
            escaped(ifname, b);
        }
        // A longer name than expected (an interface created since, a capture file's) widens the column for good.
        ifaceWidth = Math.max(ifaceWidth, Math.min(b.length() - at, MAX_IFACE_WIDTH));
        padTo(b, at + ifaceWidth);
        b.append(' ');
        int from = b.length();
        endpoint(x.client(), x.tls() == null ? null : x.tls().clientProcess(), b);
        padTo(b, from + ENDPOINT_WIDTH);
        b.append(" -> ");
        from = b.length();
        endpoint(x.server(), x.tls() == null ? null : x.tls().serverProcess(), b);
        padTo(b, from + ENDPOINT_WIDTH);
        b.append(' ');
        status(rs, b);
        b.append(' ');
        from = b.length();
        escaped(rq.method() == null ? "" : rq.method(), b);
        padTo(b, from + METHOD_WIDTH);
        from = b.length();
        if (rs != null) {
            millis(Math.max(0L, rs.timestampNanos() - rq.timestampNanos()), b);
            b.append(" ms");
        }
        alignRight(b, from, LATENCY_WIDTH);
        from = b.length();
        size(rq.bodySize(), b);
        alignRight(b, from, SIZE_WIDTH + 1);
        from = b.length();
        if (rs != null) {
            size(rs.bodySize(), b);
        } else {
            b.append('-');
        }
        alignRight(b, from, SIZE_WIDTH + 1);
        b.append(' ');
        if (t != null && t.malformedRequest() != null) {
            malformed(t.malformedRequest(), b);
        } else {
            String tg = rq.target() == null ? "" : rq.target();
            if (!options.showSecrets()) {
                target.parse(rq.method(), tg);
                tg = target.redactedOriginal();
            }
            escaped(tg, b);
        }
        Exchange.Http2 h2 = x.http2();
        if (h2 != null) {
            b.append(" [h2 #").append(h2.streamId()).append(']');
            if (h2.reset() != null) b.append(" [reset by ").append(h2.reset().by()).append(": ").append(h2.reset().error()).append(']');
            if (!h2.requestHeadersSeen()) b.append(" [request not seen]");
            if (h2.unknownFields() > 0) b.append(" [unknown fields: ").append(h2.unknownFields()).append(']');
            if (h2.grpc() != null && h2.grpc().statusCode() != null) b.append(" [grpc-status ").append(h2.grpc().statusCode()).append(']');
        }
        if (rs == null) {
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
        if (x.tls() != null) {
            b.append(" [https: ");
            process(x.tls().clientProcess(), b);
            b.append(" -> ");
            process(x.tls().serverProcess(), b);
            b.append(']');
        }
        b.append('\n');
    }

    /** name[pid] of a traced process, ? for an end that was not traced. */
    private static void process(dev.httptrace.exchange.ProcessInfo p, StringBuilder b) {
        if (p == null) {
            b.append('?');
        } else {
            escaped(p.name(), b);
            b.append('[').append(p.pid()).append(']');
        }
    }

    private void localTime(long epochNanos, StringBuilder b) {
        long secs = Math.floorDiv(epochNanos, 1_000_000_000L);
        int micros = (int) (Math.floorMod(epochNanos, 1_000_000_000L) / 1000);
        if (secs < offsetFrom || secs >= offsetUntil) {
            updateOffset(secs);
        }
        long day = Math.floorDiv(secs + offsetSeconds, 86_400L);
        if (today != Long.MIN_VALUE && day != today) {
            b.append(java.time.LocalDate.ofEpochDay(day)).append(' ');
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

    /** address:port, or for a TLS stream whose socket is unknown the process (name[pid]), else "?". */
    private void endpoint(Exchange.Endpoint e, dev.httptrace.exchange.ProcessInfo process, StringBuilder b) {
        if (e.address().length == 0) {
            if (process == null) {
                b.append('?');
            } else {
                escaped(process.name(), b);
                b.append('[').append(process.pid()).append(']');
            }
            return;
        }
        int n = Formats.address(e.address(), scratch, 0);
        if (e.address().length == 16) {
            b.append('[').append(scratch, 0, n).append(']');
        } else {
            b.append(scratch, 0, n);
        }
        b.append(':').append(e.port());
    }

    private static void padTo(StringBuilder b, int length) {
        while (b.length() < length) {
            b.append(' ');
        }
    }

    /** Moves what was appended since {@code from} right, so that it ends {@code width} chars after from. */
    private static void alignRight(StringBuilder b, int from, int width) {
        int missing = width - (b.length() - from);
        for (int i = 0; i < missing; i++) {
            b.insert(from, ' ');
        }
    }

    private void status(Response rs, StringBuilder b) {
        int code = rs == null ? 0 : rs.statusCode();
        String sgr = !colour ? null : switch (code / 100) {
            case 2 -> "32";
            case 3 -> "36";
            case 4 -> "33";
            case 5 -> "1;31";
            default -> "35";
        };
        if (sgr != null) {
            b.append("\u001b[").append(sgr).append('m');
        }
        if (rs == null) {
            b.append("---");
        } else if (code == 0) {
            b.append("0.9"); // the answer to an HTTP/0.9 request has no status line
        } else {
            if (code < 100) {
                b.append(code < 10 ? "  " : " ");
            }
            b.append(code);
        }
        if (sgr != null) {
            b.append("\u001b[0m");
        }
    }

    /** A body size in B, KiB, MiB or GiB: at most 7 chars ("1023 KiB" is avoided by one decimal). */
    static void size(long bytes, StringBuilder b) {
        if (bytes < 1024) {
            b.append(bytes).append(" B");
            return;
        }
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < SIZE_UNITS.length - 1) {
            v /= 1024;
            u++;
        }
        long tenths = Math.round(v * 10);
        if (tenths >= 100) {
            b.append(tenths / 10);
        } else {
            b.append(tenths / 10).append('.').append(tenths % 10);
        }
        b.append(SIZE_UNITS[u]);
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
