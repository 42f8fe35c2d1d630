package dev.httptrace.http1;

import dev.httptrace.capture.Segment;
import dev.httptrace.testing.Conversation;
import dev.httptrace.testing.Segments;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

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

    @Test
    @DisplayName("any segmentation and reordering within a window yields identical exchanges")
    void segmentationAndReorderingDoNotMatter() {
        for (long isn : new long[] {1000, 0xFFFF_FF00L}) {
            List<Segment> original = conversation(isn, isn ^ 0x5555_5555L).segments();
            String expected = Trace.describe(Trace.of(original).exchanges);
            assertEquals(6, expected.lines().count(), expected);
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
                assertEquals(expected, Trace.describe(t.exchanges), "seed " + seed);
                assertEquals(0, t.stats().parseErrors() + t.stats().orphanResponses() + t.stats().gaps(), "seed " + seed);
            }
        }
    }
}
