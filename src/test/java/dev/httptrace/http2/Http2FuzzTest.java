package dev.httptrace.http2;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.httptrace.capture.Segment;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.pipeline.Tracer;
import dev.httptrace.testing.FuzzScript;
import dev.httptrace.testing.H2;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz test (Jazzer) of the HTTP/2 stage: arbitrary frames on a connection that began with the
 * client preface (or, byte 0 bit 1, joined mid-way), damaged as the script says
 * ({@link FuzzScript}). Nothing may throw, hold state past the end, or report an impossible record.
 * Replayed from src/test/resources/dev/httptrace/http2/Http2FuzzTestInputs/connection/ by
 * {@code mvn test}; {@code JAZZER_FUZZ=1 mvn test -Dtest=Http2FuzzTest#connection} fuzzes.
 */
class Http2FuzzTest {

    @FuzzTest(maxDuration = "10m")
    void connection(byte[] input) {
        boolean midWay = input.length > 0 && (input[0] & 2) != 0;
        List<Segment> segments = FuzzScript.segments(input, midWay ? new byte[0] : H2.cat(H2.PREFACE, H2.settings()));
        List<Exchange> out = new ArrayList<>();
        Tracer tracer = new Tracer(out::add, Tracer.Settings.defaults());
        for (Segment s : segments) {
            tracer.accept(s);
            if (s.ifindex() == 2) tracer.expire(s.timestampNanos());
        }
        tracer.finish();
        Tracer.Stats stats = tracer.stats();
        assertEquals(0, stats.flowsActive());
        assertEquals(out.size(), stats.exchanges());
        long h2 = out.stream().filter(e -> e.http2() != null).count();
        assertEquals(h2, stats.http2().streams());
        for (Exchange e : out) {
            Exchange.Http2 s = e.http2();
            if (s == null) continue;
            assertEquals("2", e.request().version());
            assertTrue(s.streamId() > 0);
            assertTrue(s.unknownFields() >= 0);
            assertTrue(e.request().bodySize() >= 0);
            assertTrue(e.response() == null || e.response().bodySize() >= 0);
            assertTrue(e.response() == null ? e.trace().unanswered() != null : e.trace().unanswered() == null);
            assertTrue(e.response() == null || e.response().statusCode() == 0
                    || e.response().statusCode() >= 100 && e.response().statusCode() <= 999);
            assertTrue(s.requestHeadersSeen() || e.request().method() == null);
            for (Exchange.Header h : e.request().headers()) assertTrue(h.name() != null && h.value() != null);
        }
    }
}
