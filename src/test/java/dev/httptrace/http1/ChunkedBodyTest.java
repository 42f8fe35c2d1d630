package dev.httptrace.http1;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chunked bodies skipped by counting. */
class ChunkedBodyTest {
    private static final String BODY = "4;a=b;c\r\nWiki\r\n5 ; x=\"y\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
            + "0\r\nExpires: never\r\nX: y\r\n\r\n";

    @Test
    @DisplayName("sizes with extensions, data, trailers: the size is the sum of the chunks and the end is exact")
    void wholeBody() {
        byte[] bytes = (BODY + "NEXT").getBytes(StandardCharsets.US_ASCII);
        ChunkedBody c = new ChunkedBody();
        c.reset();
        assertEquals(BODY.length(), c.feed(bytes, 0, bytes.length));
        assertTrue(c.done());
        assertEquals(23, c.dataBytes());
    }

    @Test
    @DisplayName("split at every byte offset, the same")
    void everySplit() {
        byte[] bytes = BODY.getBytes(StandardCharsets.US_ASCII);
        for (int k = 0; k <= bytes.length; k++) {
            ChunkedBody c = new ChunkedBody();
            c.reset();
            int n = c.feed(bytes, 0, k);
            assertEquals(k, n);
            assertEquals(bytes.length - k, c.feed(bytes, k, bytes.length - k), "split at " + k);
            assertTrue(c.done(), "split at " + k);
            assertEquals(23, c.dataBytes());
        }
    }

    @Test
    @DisplayName("bad framing fails instead of guessing")
    void failures() {
        for (String bad : new String[] {"x\r\n", "\r\n", "5\r\nhelloX", "1234567890abcdef0\r\n"}) {
            ChunkedBody c = new ChunkedBody();
            c.reset();
            byte[] b = bad.getBytes(StandardCharsets.US_ASCII);
            c.feed(b, 0, b.length);
            assertTrue(c.failed(), bad);
        }
    }

    @Test
    @DisplayName("a gap inside chunk data is skipped by its length")
    void gapInData() {
        ChunkedBody c = new ChunkedBody();
        c.reset();
        byte[] b = "a\r\n0123".getBytes(StandardCharsets.US_ASCII);
        c.feed(b, 0, b.length);
        assertTrue(c.inData());
        assertEquals(6, c.remainingInChunk());
        c.skipData(6);
        byte[] rest = "\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        c.feed(rest, 0, rest.length);
        assertTrue(c.done());
        assertEquals(10, c.dataBytes());
    }
}
