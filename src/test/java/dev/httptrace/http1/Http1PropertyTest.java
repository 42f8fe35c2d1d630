package dev.httptrace.http1;

import dev.httptrace.capture.Segment;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.testing.Conversation;
import dev.httptrace.testing.Segments;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Property: however the capture cuts a valid conversation into segments, and however records
 * are reordered within a small window (as perf buffers of several CPUs interleave), the same
 * exchanges come out. Plain JUnit with a seeded Random, so a failure names its seed.
 */
class Http1PropertyTest {
    private static final int ITERATIONS = 300;

    /** Many kinds of message on one keep-alive connection, some pipelined. */
    private static Conversation conversation(long clientIsn, long serverIsn) {
        String chunkedBody = "4;x=y\r\nGET \r\n10\r\n/ HTTP/1.1\r\nHost\r\n0\r\nT: 1\r\n\r\n";
        return Conversation.create(clientIsn, serverIsn).handshake()
                .client("GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
                .server("HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\nHTTP/1.1 200 OK\r\n\r\nabcdefg")
                .client("POST /upload HTTP/1.1\r\nContent-Length: 21\r\nExpect: 100-continue\r\n\r\n")
                .server("HTTP/1.1 100 Continue\r\n\r\n")
                .client("GET / HTTP/1.1\r\n\r\nxyz")
                .server("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody)
                .client("HEAD /h HTTP/1.1\r\n\r\nGET /p1 HTTP/1.1\r\n\r\nGET /p2 HTTP/1.1\r\nX: y\r\n\r\n")
                .server("HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n")
                .server("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n")
                .client("DELETE /d HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
                .server("HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\nclose-delimited tail")
                .clientFin().serverFin();
    }

    /**
     * What the conversation above is, by the protocol, written out by hand (not taken from the
     * tracer): request and response times in ms after the conversation's start, start lines,
     * headers as sent, body sizes (chunked: the data, not the framing).
     */
    private static final List<String> EXPECTED = List.of(
            // 26 bytes of body that look like a response of their own
            "+2 GET /a?x=1 HTTP/1.1 [Host: example.com, Accept: */*] body=0"
                    + " -> +3 200 'OK' HTTP/1.1 [Content-Length: 26] body=26",
            // 100 Continue is interim; the 21-byte body looks like a request; the chunked body is 4 + 16 bytes
            // (flagged: a body that begins with a request line is a smuggling pattern)
            "+4 POST /upload HTTP/1.1 [Content-Length: 21, Expect: 100-continue] body=21"
                    + " -> +7 201 'Created' HTTP/1.1 [Transfer-Encoding: chunked] body=20 [request.body_with_request]",
            // three pipelined requests in one segment: HEAD's answer has no body whatever its length
            "+8 HEAD /h HTTP/1.1 [] body=0 -> +9 200 'OK' HTTP/1.1 [Content-Length: 999] body=0",
            "+8 GET /p1 HTTP/1.1 [] body=0 -> +10 204 'No Content' HTTP/1.1 [] body=0",
            "+8 GET /p2 HTTP/1.1 [X: y] body=0 -> +10 304 'Not Modified' HTTP/1.1 [Content-Length: 5] body=0",
            // a chunked request body of 2; a response delimited by the close: "close-delimited tail"
            "+11 DELETE /d HTTP/1.1 [Transfer-Encoding: chunked] body=2"
                    + " -> +12 500 'Internal Server Error' HTTP/1.1 [Connection: close] body=20");

    @Test
    @DisplayName("any segmentation and reordering within a window yields the exchanges the protocol defines")
    void segmentationAndReorderingDoNotMatter() {
        for (long isn : new long[] {1000, 0xFFFF_FF00L}) {
            List<Segment> original = conversation(isn, isn ^ 0x5555_5555L).segments();
            long t0 = original.getFirst().timestampNanos();
            assertEquals(EXPECTED, describe(Trace.of(original), t0), "the conversation as sent");
            Random random = new Random(isn);
            for (int i = 0; i < ITERATIONS; i++) {
                long seed = random.nextLong();
                Random r = new Random(seed);
                List<Segment> segments = Segments.resegment(original, r, 1 + r.nextInt(40));
                // The handshake stays first; everything after it may interleave.
                List<Segment> rest = Segments.shuffleWithin(segments.subList(2, segments.size()), r, 1 + r.nextInt(4));
                List<Segment> damaged = new ArrayList<>(segments.subList(0, 2));
                damaged.addAll(rest);
                Trace t = Trace.of(damaged);
                assertEquals(EXPECTED, describe(t, t0), "seed " + seed);
                assertEquals(0, t.stats().parseErrors() + t.stats().orphanResponses() + t.stats().gaps(), "seed " + seed);
            }
        }
    }

    /** The exchanges in EXPECTED's form; each must be clean (answered, no gap), anomalies shown. */
    private static List<String> describe(Trace t, long t0) {
        List<String> out = new ArrayList<>();
        for (Exchange e : t.exchanges) {
            assertEquals(new Exchange.TraceInfo(null, false, 0, false, e.trace().anomalies(), null), e.trace(),
                    Trace.describe(e));
            Exchange.Request q = e.request();
            Exchange.Response a = e.response();
            out.add(ms(q.timestampNanos(), t0) + " " + q.method() + " " + q.target() + " HTTP/" + q.version() + " "
                    + headers(q.headers()) + " body=" + q.bodySize() + " -> "
                    + (a == null ? "none" : ms(a.timestampNanos(), t0) + " " + a.statusCode() + " '" + a.reason()
                    + "' HTTP/" + a.version() + " " + headers(a.headers()) + " body=" + a.bodySize())
                    + (e.trace().anomalies().isEmpty() ? "" : " " + e.trace().anomalies()));
        }
        return out;
    }

    private static String ms(long nanos, long t0) {
        return "+" + (nanos - t0) / 1_000_000;
    }

    private static String headers(List<Exchange.Header> headers) {
        return headers.stream().map(h -> h.name() + ": " + h.value()).collect(Collectors.joining(", ", "[", "]"));
    }
}
