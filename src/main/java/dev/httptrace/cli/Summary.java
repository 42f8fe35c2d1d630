package dev.httptrace.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.httptrace.capture.NativeCapture;
import dev.httptrace.capture.PcapReader;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.ExchangeSink;
import dev.httptrace.export.KafkaCounters;
import dev.httptrace.pipeline.Tracer;
import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the exit summary says about the exchanges written: how many per status class,
 * latency percentiles, the slowest exchanges and the most frequent paths. Passes every
 * exchange on to the next sink.
 *
 * <p>Memory is bounded whatever the traffic: latency goes into a fixed log-linear histogram
 * (32 buckets per power of two of microseconds: percentiles within about 3%, the maximum
 * exact), the slowest list has {@value #TOP} entries, and paths are counted in a table of at
 * most {@value #MAX_PATHS} (when it fills, the least frequent half is forgotten, and the
 * counts are then marked approximate). Per exchange: a few array updates and one hash lookup.
 */
final class Summary implements ExchangeSink {

    static final int TOP = 5;
    static final int MAX_PATHS = 1024;
    private static final int MAX_PATH_CHARS = 200;
    private static final int SUB_BITS = 5;
    private static final int SUB = 1 << SUB_BITS;

    /** One of the slowest exchanges. */
    record Slow(String method, String path, int status, long latencyNanos) {}

    /** A path and how often it was requested. */
    record PathCount(String path, long count) {}

    private final ExchangeSink next;
    private long exchanges;
    // 1xx..5xx at 1..5, anything else at 0 (e.g. 0xx or 6xx-9xx); unanswered separately.
    private final long[] byClass = new long[6];
    private long unanswered;
    private final long[] histogram = new long[(64 - SUB_BITS) << SUB_BITS];
    private long answered;
    private long maxLatencyMicros = -1;
    private final Slow[] slowest = new Slow[TOP];
    private int slowCount;
    private final HashMap<String, long[]> paths = new HashMap<>();
    private boolean pathsApproximate;
    /** The Kafka export's counters at exit, and its topic; null without --kafka. */
    private KafkaCounters.Snapshot kafka;
    private String kafkaTopic;

    Summary(ExchangeSink next) {
        this.next = next;
    }

    @Override
    public void exchange(Exchange x) {
        exchanges++;
        Exchange.Response rs = x.response();
        if (rs == null) {
            unanswered++;
        } else {
            int c = rs.statusCode() / 100;
            byClass[c >= 1 && c <= 5 ? c : 0]++;
            long nanos = Math.max(0L, rs.timestampNanos() - x.request().timestampNanos());
            long micros = nanos / 1000;
            histogram[bucket(micros)]++;
            answered++;
            maxLatencyMicros = Math.max(maxLatencyMicros, micros);
            if (slowCount < TOP || nanos > slowest[slowCount - 1].latencyNanos()) {
                slow(new Slow(x.request().method(), path(x.request().target()), rs.statusCode(), nanos));
            }
        }
        countPath(x.request().target());
        next.exchange(x);
    }

    // ------------------------------------------------------------------ latency histogram

    /** Log-linear bucket: exact below 2*SUB, then SUB buckets per power of two. */
    static int bucket(long v) {
        if (v < 2 * SUB) {
            return (int) v;
        }
        int e = 63 - Long.numberOfLeadingZeros(v);
        return ((e - SUB_BITS) << SUB_BITS) + (int) (v >>> (e - SUB_BITS));
    }

    /** The middle of a bucket's range. */
    static long bucketValue(int index) {
        if (index < 2 * SUB) {
            return index;
        }
        int shift = (index >>> SUB_BITS) - 1;
        long low = (long) ((index & (SUB - 1)) + SUB) << shift;
        return low + ((1L << shift) - 1) / 2;
    }

    /** The latency in microseconds below which a fraction q of answered exchanges fall; -1 when none. */
    long percentileMicros(double q) {
        if (answered == 0) {
            return -1;
        }
        long rank = Math.max(1, (long) Math.ceil(q * answered));
        long seen = 0;
        for (int i = 0; i < histogram.length; i++) {
            seen += histogram[i];
            if (seen >= rank) {
                return Math.min(bucketValue(i), maxLatencyMicros);
            }
        }
        return maxLatencyMicros;
    }

    // ------------------------------------------------------------------ slowest, paths

    private void slow(Slow s) {
        int i = Math.min(slowCount, TOP - 1);
        while (i > 0 && slowest[i - 1].latencyNanos() < s.latencyNanos()) {
            slowest[i] = slowest[i - 1];
            i--;
        }
        slowest[i] = s;
        slowCount = Math.min(slowCount + 1, TOP);
    }

    /** The request target without its query (the target itself when it has none: no copy). */
    private static String path(String target) {
        if (target == null) {
            return "";
        }
        int q = target.indexOf('?');
        int end = Math.min(q < 0 ? target.length() : q, MAX_PATH_CHARS);
        return end == target.length() ? target : target.substring(0, end);
    }

    private void countPath(String target) {
        String p = path(target);
        long[] n = paths.get(p);
        if (n != null) {
            n[0]++;
            return;
        }
        if (paths.size() >= MAX_PATHS) {
            forgetLeastFrequentHalf();
        }
        paths.put(p, new long[] {1});
    }

    private void forgetLeastFrequentHalf() {
        List<Map.Entry<String, long[]>> entries = new ArrayList<>(paths.entrySet());
        entries.sort(Comparator.comparingLong(e -> e.getValue()[0]));
        for (int i = 0; i < entries.size() / 2; i++) {
            paths.remove(entries.get(i).getKey());
        }
        pathsApproximate = true;
    }

    List<Slow> slowest() {
        return List.of(Arrays.copyOf(slowest, slowCount));
    }

    List<PathCount> frequentPaths() {
        return paths.entrySet().stream()
                .sorted(Comparator.<Map.Entry<String, long[]>>comparingLong(e -> -e.getValue()[0])
                        .thenComparing(Map.Entry::getKey))
                .limit(TOP)
                .map(e -> new PathCount(e.getKey(), e.getValue()[0]))
                .toList();
    }

    long exchanges() {
        return exchanges;
    }

    /** The Kafka export's counters at exit, for {@code --stats json}. */
    void kafka(KafkaCounters.Snapshot counters, String topic) {
        this.kafka = counters;
        this.kafkaTopic = topic;
    }

    // ------------------------------------------------------------------ printing

    /**
     * Counters of the run, apart from the exchanges: from the kernel, a capture file, the
     * tracer, and the TLS source (null each when not used).
     */
    record Counters(NativeCapture.Stats kernel, PcapReader.Stats file, Tracer.Stats tracer, TlsSource.Stats tls) {
        Counters(NativeCapture.Stats kernel, PcapReader.Stats file, Tracer.Stats tracer) {
            this(kernel, file, tracer, null);
        }
    }

    /** The summary as lines for people (stderr). */
    List<String> text(Counters c) {
        List<String> lines = new ArrayList<>();
        if (c.file() != null) {
            lines.add("read " + n(c.file().packets(), "packet") + " (" + c.file().nonTcp() + " not TCP, "
                    + c.file().malformed() + " malformed)");
        }
        StringBuilder line = new StringBuilder();
        NativeCapture.Stats k = c.kernel();
        if (k != null) {
            line.append(n(k.packets(), "packet")).append(", ")
                .append(n(k.emitted(), "segment")).append(" captured, ")
                .append(lost(k)).append(" lost, ");
        }
        Tracer.Stats s = c.tracer();
        line.append(n(s.exchanges(), "exchange")).append(" (").append(s.unanswered()).append(" unanswered), ")
            .append(n(s.requests(), "request")).append(", ").append(n(s.responses(), "response")).append(", ")
            .append(n(s.parseErrors(), "parse error")).append(", ")
            .append(n(s.nonHttpFlows(), "non-HTTP flow")).append(", ")
            .append(n(s.gaps(), "gap")).append(", ")
            .append(n(s.retransmittedSegments(), "retransmitted segment")).append(", ")
            .append(n(s.interfaceCopies(), "copy", "copies")).append(" from other interfaces");
        lines.add(line.toString());
        Tracer.Http2Stats h2 = s.http2();
        if (h2.connections() > 0) {
            lines.add("http2: " + h2.connections() + " connections, " + h2.streams() + " streams ("
                    + h2.partial() + " partial, " + h2.unknownFields() + " header fields unknown), "
                    + h2.rstStreams() + " reset, " + h2.goAways() + " GOAWAY, " + h2.framingLost() + " framing lost, "
                    + h2.errors() + " errors");
        }
        if (exchanges == 0) {
            return lines;
        }
        lines.add(exchanges + " written: 2xx " + byClass[2] + ", 3xx " + byClass[3] + ", 4xx " + byClass[4]
                + ", 5xx " + byClass[5] + (byClass[1] > 0 ? ", 1xx " + byClass[1] : "")
                + (byClass[0] > 0 ? ", other " + byClass[0] : "") + ", unanswered " + unanswered);
        if (answered > 0) {
            lines.add("latency p50 " + ms(percentileMicros(0.5)) + ", p90 " + ms(percentileMicros(0.9))
                    + ", p99 " + ms(percentileMicros(0.99)) + ", max " + ms(maxLatencyMicros) + " ms");
            StringBuilder b = new StringBuilder("slowest:");
            for (Slow x : slowest()) {
                b.append(b.length() > 8 ? "," : "").append(' ').append(x.method()).append(' ').append(x.path())
                 .append(' ').append(x.status()).append(' ').append(ms(x.latencyNanos() / 1000)).append(" ms");
            }
            lines.add(b.toString());
        }
        StringBuilder b = new StringBuilder(pathsApproximate ? "most frequent paths (approximate):" : "most frequent paths:");
        int mark = b.length();
        for (PathCount p : frequentPaths()) {
            b.append(b.length() > mark ? "," : "").append(' ').append(p.path()).append(' ').append(p.count());
        }
        lines.add(b.toString());
        return lines;
    }

    private static long lost(NativeCapture.Stats k) {
        // A full ring both fails the kernel's write and is reported as lost samples: count it once.
        return Math.max(k.lostSamples(), k.emitFailed()) + k.overflow();
    }

    private static String ms(long micros) {
        return String.format(Locale.ROOT, "%.3f", micros / 1000.0);
    }

    /**
     * The summary as one JSON object on one line ({@code --stats json}); fields in README
     * "Exit summary". {@code exitCode} is the code the run ends with.
     */
    /** "1 exchange", "2 exchanges", "0 exchanges". */
    static String n(long count, String one) {
        return n(count, one, one + "s");
    }

    static String n(long count, String one, String many) {
        return count + " " + (count == 1 ? one : many);
    }

    String json(Counters c, Verdict verdict, int exitCode) {
        return json(c, verdict, exitCode, List.of(), List.of());
    }

    /**
     * The summary as one JSON object; with --stats json it is all of stderr, so the lines
     * otherwise printed there come inside it: messages (e.g. --tls's report) and errors.
     */
    String json(Counters c, Verdict verdict, int exitCode, List<String> messages, List<String> errors) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("exchanges", exchanges);
            g.writeObjectFieldStart("status");
            g.writeNumberField("1xx", byClass[1]);
            g.writeNumberField("2xx", byClass[2]);
            g.writeNumberField("3xx", byClass[3]);
            g.writeNumberField("4xx", byClass[4]);
            g.writeNumberField("5xx", byClass[5]);
            g.writeNumberField("other", byClass[0]);
            g.writeNumberField("unanswered", unanswered);
            g.writeEndObject();
            g.writeFieldName("latency_ms");
            if (answered == 0) {
                g.writeNull();
            } else {
                g.writeStartObject();
                g.writeNumberField("p50", percentileMicros(0.5) / 1000.0);
                g.writeNumberField("p90", percentileMicros(0.9) / 1000.0);
                g.writeNumberField("p99", percentileMicros(0.99) / 1000.0);
                g.writeNumberField("max", maxLatencyMicros / 1000.0);
                g.writeEndObject();
            }
            g.writeArrayFieldStart("slowest");
            for (Slow x : slowest()) {
                g.writeStartObject();
                g.writeStringField("method", x.method());
                g.writeStringField("path", x.path());
                g.writeNumberField("status", x.status());
                g.writeNumberField("latency_ms", x.latencyNanos() / 1000 / 1000.0);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("top_paths");
            for (PathCount p : frequentPaths()) {
                g.writeStartObject();
                g.writeStringField("path", p.path());
                g.writeNumberField("count", p.count());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeBooleanField("top_paths_approximate", pathsApproximate);
            Tracer.Stats s = c.tracer();
            g.writeObjectFieldStart("tracer");
            g.writeNumberField("segments", s.segments());
            g.writeNumberField("requests", s.requests());
            g.writeNumberField("responses", s.responses());
            g.writeNumberField("exchanges", s.exchanges());
            g.writeNumberField("unanswered", s.unanswered());
            g.writeNumberField("parse_errors", s.parseErrors());
            g.writeNumberField("non_http_flows", s.nonHttpFlows());
            g.writeNumberField("gaps", s.gaps());
            g.writeNumberField("retransmitted_segments", s.retransmittedSegments());
            g.writeNumberField("interface_copies", s.interfaceCopies());
            g.writeEndObject();
            Tracer.Http2Stats h2 = s.http2();
            g.writeObjectFieldStart("http2");
            g.writeNumberField("connections", h2.connections());
            g.writeNumberField("streams", h2.streams());
            g.writeNumberField("partial", h2.partial());
            g.writeNumberField("unknown_fields", h2.unknownFields());
            g.writeNumberField("rst_streams", h2.rstStreams());
            g.writeNumberField("goaways", h2.goAways());
            g.writeNumberField("framing_lost", h2.framingLost());
            g.writeNumberField("errors", h2.errors());
            g.writeEndObject();
            if (c.kernel() != null) {
                NativeCapture.Stats k = c.kernel();
                g.writeObjectFieldStart("capture");
                g.writeNumberField("packets", k.packets());
                g.writeNumberField("segments", k.emitted());
                g.writeNumberField("lost", lost(k));
                g.writeEndObject();
            }
            if (c.tls() != null) {
                TlsSource.Stats t = c.tls();
                g.writeObjectFieldStart("tls");
                g.writeNumberField("libraries", t.libraries());
                g.writeNumberField("records", t.records());
                g.writeNumberField("lost", t.lost());
                g.writeNumberField("streams", t.streams());
                g.writeNumberField("socket_unknown_streams", t.socketUnknownStreams());
                g.writeNumberField("bytes_not_copied", t.bytesNotCopied());
                g.writeEndObject();
            }
            if (c.file() != null) {
                g.writeObjectFieldStart("file");
                g.writeNumberField("packets", c.file().packets());
                g.writeNumberField("non_tcp", c.file().nonTcp());
                g.writeNumberField("malformed", c.file().malformed());
                g.writeEndObject();
            }
            if (kafka != null) {
                g.writeObjectFieldStart("kafka");
                g.writeStringField("topic", kafkaTopic);
                g.writeNumberField("records", kafka.records());
                g.writeNumberField("delivered", kafka.delivered());
                g.writeNumberField("not_delivered", kafka.notDelivered());
                g.writeObjectFieldStart("causes");
                for (KafkaCounters.Cause cause : KafkaCounters.Cause.values()) {
                    g.writeNumberField(cause.jsonName, kafka.failed(cause));
                }
                g.writeEndObject();
                g.writeEndObject();
            }
            verdict.json(g);
            if (!messages.isEmpty()) {
                g.writeArrayFieldStart("messages");
                for (String m : messages) {
                    g.writeString(m);
                }
                g.writeEndArray();
            }
            if (!errors.isEmpty()) {
                g.writeArrayFieldStart("errors");
                for (String e : errors) {
                    g.writeString(e);
                }
                g.writeEndArray();
            }
            g.writeNumberField("exit_code", exitCode);
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not fail
        }
        return out.toString();
    }
}
