package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.pipeline.Tracer;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.httptrace.capture.Segment;
import dev.httptrace.testing.FuzzScript;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz tests (Jazzer): no input may make the tracer throw, hold unbounded state, or report
 * something inconsistent.
 *
 * <p>A plain {@code mvn test} runs them in regression mode: each fuzz test runs once on the
 * empty input and once on every file under
 * {@code src/test/resources/dev/httptrace/http1/Http1FuzzTestInputs/<methodName>/}.
 * To fuzz for real, one fuzz test per run, for its {@code maxDuration}:
 *
 * <pre>
 * JAZZER_FUZZ=1 mvn test -Dtest=Http1FuzzTest#conversation
 * JAZZER_FUZZ=1 mvn test -Dtest=Http1FuzzTest#headParser
 * </pre>
 *
 * Jazzer keeps its generated corpus in {@code .cifuzz-corpus/} (not committed) and writes an
 * input that fails into the inputs directory above, where it stays as a regression test once
 * the bug is fixed. Keep the machine's limits in mind: fuzzing uses a full core.
 */
class Http1FuzzTest {
    private static final Set<String> UNANSWERED = Set.of("closed", "timeout", "capture_end", "gap");

    /**
     * Arbitrary bytes as a scripted conversation, so the fuzzer chooses both the payloads and
     * how the capture damaged them. Byte 0: bit 0 = start with a handshake, bit 1 = small
     * limits. Then records {@code [control][length][payload]}; control bits: 0 = from the
     * server, 1 = FIN after, 2 = RST instead, 3 = only half the payload captured, 4 = lost,
     * 5 = seen twice, 6 = overtaken by the next segment, 7 = 250 ms pass and expire runs.
     */
    @FuzzTest(maxDuration = "10m")
    void conversation(byte[] input) {
        boolean small = input.length > 0 && (input[0] & 2) != 0;
        Tracer.Settings settings = small
                ? new Tracer.Settings(2, 1_000_000_000L, 256, 512, 100_000_000L)
                : Tracer.Settings.defaults();
        List<Exchange> out = new ArrayList<>();
        Tracer tracer = new Tracer(out::add, settings);
        for (Segment s : segments(input)) {
            tracer.accept(s);
            if (s.ifindex() == 2) tracer.expire(s.timestampNanos());
            assertTrue(tracer.stats().flowsActive() <= settings.maxFlows());
        }
        tracer.finish();
        Tracer.Stats stats = tracer.stats();
        assertEquals(0, stats.flowsActive());
        assertEquals(0, tracer.heldHeadBytes(), "everything held was released");
        assertEquals(out.size(), stats.exchanges());
        assertEquals(out.stream().filter(e -> e.response() == null).count(), stats.unanswered());
        for (Exchange e : out) {
            assertNotNull(e.request());
            if (e.http2() != null) continue; // HTTP/2 has invariants of its own (Http2FuzzTest)
            assertTrue((e.request().method() == null) == (e.trace().malformedRequest() != null),
                    "a method unless the request line was malformed");
            assertTrue(e.trace().malformedRequest() == null
                    || e.trace().malformedRequest().length() <= Exchange.TraceInfo.MAX_MALFORMED_LINE);
            assertTrue(e.response() == null ? UNANSWERED.contains(e.trace().unanswered()) : e.trace().unanswered() == null);
            assertTrue(kept(e.request().headers()) <= settings.maxHeadBytes(), "head bytes kept are bounded");
            assertTrue(e.request().bodySize() >= 0);
            if (e.response() != null) {
                assertTrue(kept(e.response().headers()) <= settings.maxHeadBytes());
                // The answer to an HTTP/0.9 request has no status line.
                assertTrue(e.response().statusCode() >= 100 && e.response().statusCode() <= 999
                        || e.response().statusCode() == 0 && "0.9".equals(e.request().version()));
                assertTrue(e.response().bodySize() >= 0);
            }
        }
    }

    /**
     * The head parser on arbitrary bytes, fed whole and cut in pieces (sizes from the low bits of
     * the first byte; bit 4: a known client's request at a known boundary, parsed leniently): it
     * never throws, and the pieces never change the result.
     */
    @FuzzTest(maxDuration = "10m")
    void headParser(byte[] input) {
        int piece = input.length == 0 ? 1 : 1 + (input[0] & 0x0F);
        byte[] bytes = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
        boolean lenient = input.length > 0 && (input[0] & 0x10) != 0;
        String whole = parse(bytes, bytes.length, lenient);
        assertEquals(whole, parse(bytes, piece, lenient));
    }

    private static String parse(byte[] bytes, int piece, boolean lenient) {
        HeadParser p = new HeadParser(128);
        if (lenient) {
            p.start(true, false, true);
        } else {
            p.start(true, true);
        }
        int at = 0;
        while (at < bytes.length && p.state() == HeadParser.MORE) {
            int n = Math.min(piece, bytes.length - at);
            int used = p.feed(bytes, at, n);
            assertTrue(used >= 0 && used <= n);
            at += used;
            if (used < n) break;
        }
        if (p.hasStartLine()) assertTrue(kept(p.headers) <= 128);
        // Not HTTP: where exactly that became clear does not matter, the rest is skipped.
        if (p.state() == HeadParser.INVALID) return "invalid";
        return p.state() + " " + at + " " + p.kind + " " + p.method + " " + p.target + " " + p.version + " "
                + p.status + " " + p.reason + " " + p.headers + " " + p.truncated + " " + p.contentLength + " "
                + p.contentLengthInvalid + " " + p.transferEncoding + " " + p.chunked + " " + p.malformedLines + " "
                + p.anomalies + " " + p.malformedLine;
    }

    private static long kept(List<Exchange.Header> headers) {
        return headers.stream().mapToLong(h -> h.name().length() + h.value().length()).sum();
    }

    static List<Segment> segments(byte[] in) {
        return FuzzScript.segments(in, new byte[0]);
    }
}
