package dev.httptrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.pipeline.Tracer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The exit summary: status classes, latency percentiles, slowest exchanges, frequent paths; bounded memory. */
class SummaryTest {
    private static final Tracer.Stats TRACER = new Tracer.Stats(10, 0, 0, 0, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    static Exchange ex(String target, int status, long latencyNanos) {
        var rq = new Exchange.Request(1_000_000_000L, "GET", target, "1.1", List.of(), false, 0);
        var rs = status == 0 ? null
                : new Exchange.Response(1_000_000_000L + latencyNanos, status, "", "1.1", List.of(), false, 0);
        var ep = new Exchange.Endpoint(new byte[4], 1);
        return new Exchange(1, false, ep, ep, rq, rs, new Exchange.TraceInfo(rs == null ? "closed" : null, false, 0, false));
    }

    @Test
    void percentilesAreWithinThreePercentAndTheMaximumIsExact() {
        Summary s = new Summary(x -> {});
        for (int ms = 1; ms <= 1000; ms++) {
            s.exchange(ex("/p", 200, ms * 1_000_000L + 123));
        }
        assertEquals(500_000, s.percentileMicros(0.5), 500_000 * 0.03);
        assertEquals(900_000, s.percentileMicros(0.9), 900_000 * 0.03);
        assertEquals(990_000, s.percentileMicros(0.99), 990_000 * 0.03);
        assertEquals(1_000_000, s.percentileMicros(1.0));
    }

    @Test
    void histogramBucketsCoverEveryLongAndKeepSmallValuesExact() {
        for (long v = 0; v < 64; v++) {
            assertEquals(v, Summary.bucketValue(Summary.bucket(v)));
        }
        long prev = -1;
        for (long v = 64; v > 0 && v < Long.MAX_VALUE / 3; v = v * 3 / 2 + 1) {
            int b = Summary.bucket(v);
            assertTrue(b >= prev, "monotonic");
            assertEquals(v, Summary.bucketValue(b), v * 0.032, "value " + v);
            prev = b;
        }
        assertTrue(Summary.bucket(Long.MAX_VALUE) < (64 - 5) << 5);
    }

    @Test
    void textNamesClassesLatencySlowestAndFrequentPaths() {
        Summary s = new Summary(x -> {});
        s.exchange(ex("/a?x=1", 200, 2_000_000));
        s.exchange(ex("/a?x=2", 200, 1_000_000));
        s.exchange(ex("/b", 503, 9_000_000));
        s.exchange(ex("/c", 404, 3_000_000));
        s.exchange(ex("/a", 0, 0));
        List<String> lines = s.text(new Summary.Counters(null, null, TRACER));
        assertEquals("5 written: 2xx 2, 3xx 0, 4xx 1, 5xx 1, unanswered 1", lines.get(1));
        assertTrue(lines.get(2).startsWith("latency p50 "), lines.get(2));
        assertTrue(lines.get(2).endsWith("max 9.000 ms"), lines.get(2));
        assertEquals("slowest: GET /b 503 9.000 ms, GET /c 404 3.000 ms, GET /a 200 2.000 ms, GET /a 200 1.000 ms",
                lines.get(3));
        assertEquals("most frequent paths: /a 3, /b 1, /c 1", lines.get(4));
    }

    @Test
    void jsonIsOneObjectWithTheDocumentedFields() throws Exception {
        Summary s = new Summary(x -> {});
        s.exchange(ex("/a", 200, 2_000_000));
        s.exchange(ex("/b", 500, 4_000_000));
        String json = s.json(new Summary.Counters(null, null, TRACER), new Verdict(x -> {}, null, 3), ExitCode.EXPECT);
        assertEquals(1, json.lines().count());
        JsonNode j = new ObjectMapper().readTree(json);
        assertEquals(2, j.get("exchanges").asLong());
        assertEquals(1, j.at("/status/2xx").asLong());
        assertEquals(1, j.at("/status/5xx").asLong());
        assertEquals(0, j.at("/status/unanswered").asLong());
        assertEquals(4.0, j.at("/latency_ms/max").asDouble());
        assertEquals("/b", j.at("/slowest/0/path").asText());
        assertEquals(500, j.at("/slowest/0/status").asInt());
        assertEquals("/a", j.at("/top_paths/0/path").asText());
        assertEquals(3, j.at("/tracer/requests").asLong());
        assertEquals(3, j.at("/verdict/expect").asLong());
        assertEquals(false, j.at("/verdict/passed").asBoolean());
        assertEquals(ExitCode.EXPECT, j.get("exit_code").asInt());
        assertTrue(j.at("/capture").isMissingNode(), "no kernel counters offline");
        assertTrue(j.at("/tls").isMissingNode(), "no tls object without --tls");
    }

    @Test
    void jsonHasATlsObjectWithEveryTlsCounterWhenTlsIsOn() throws Exception {
        Summary s = new Summary(x -> {});
        var tls = new TlsSource.Stats(2, 40, 3, 7, 1, 65536);
        String json = s.json(new Summary.Counters(null, null, TRACER, tls), new Verdict(x -> {}, null, 0), ExitCode.OK);
        JsonNode t = new ObjectMapper().readTree(json).get("tls");
        assertEquals(List.of("libraries", "records", "lost", "streams", "socket_unknown_streams",
                "bytes_not_copied"), names(t.fieldNames()));
        assertEquals(2, t.get("libraries").asLong());
        assertEquals(40, t.get("records").asLong());
        assertEquals(3, t.get("lost").asLong());
        assertEquals(7, t.get("streams").asLong());
        assertEquals(1, t.get("socket_unknown_streams").asLong());
        assertEquals(65536, t.get("bytes_not_copied").asLong());
    }

    private static List<String> names(java.util.Iterator<String> names) {
        List<String> list = new ArrayList<>();
        names.forEachRemaining(list::add);
        return list;
    }

    @Test
    void pathCountsStayBoundedUnderEndlesslyNewPathsAndFrequentOnesSurvive() {
        Summary s = new Summary(x -> {});
        for (int i = 0; i < 100_000; i++) {
            s.exchange(ex("/user/" + i, 200, 1000));
            if (i % 10 == 0) {
                s.exchange(ex("/health", 200, 1000));
            }
        }
        List<Summary.PathCount> top = s.frequentPaths();
        assertEquals("/health", top.get(0).path());
        assertEquals(10_000, top.get(0).count());
        List<String> lines = s.text(new Summary.Counters(null, null, TRACER));
        assertTrue(lines.getLast().startsWith("most frequent paths (approximate): /health 10000"), lines.getLast());
    }

    @Test
    void countsAreSingularForOne() {
        assertEquals("1 exchange", Summary.n(1, "exchange"));
        assertEquals("0 exchanges", Summary.n(0, "exchange"));
        assertEquals("1 library", Summary.n(1, "library", "libraries"));
        assertEquals("2 libraries", Summary.n(2, "library", "libraries"));
    }

    @Test
    void verdictFailsOnAStatusOrTooFewExchanges() {
        List<Exchange> passed = new ArrayList<>();
        Verdict v = new Verdict(passed::add, dev.httptrace.output.StatusRanges.parse(List.of("5xx")), 2);
        v.exchange(ex("/a", 200, 1));
        assertEquals(ExitCode.EXPECT, v.exitCode());
        assertEquals(List.of("expected at least 2 exchanges, saw 1 (--expect)"), v.reasons());
        v.exchange(ex("/a", 0, 0));
        assertEquals(ExitCode.OK, v.exitCode(), "an unanswered exchange has no status but counts as seen");
        v.exchange(ex("/b", 502, 1));
        assertEquals(ExitCode.FAIL_ON, v.exitCode());
        assertEquals(List.of("1 exchange with status 5xx (--fail-on)"), v.reasons());
        Verdict both = new Verdict(x -> {}, dev.httptrace.output.StatusRanges.parse(List.of("5xx")), 3);
        both.exchange(ex("/b", 502, 1));
        assertEquals(ExitCode.FAIL_ON, both.exitCode(), "--fail-on wins");
        assertEquals(List.of("1 exchange with status 5xx (--fail-on)", "expected at least 3 exchanges, saw 1 (--expect)"),
                both.reasons(), "both are said");
        assertEquals(3, passed.size());
    }
}
