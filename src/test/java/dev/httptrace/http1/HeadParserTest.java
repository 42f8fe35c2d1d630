package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Message heads, whole or in pieces, valid or hostile. */
class HeadParserTest {

    private static HeadParser parse(String text, int maxHead, int piece) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        HeadParser p = new HeadParser(maxHead);
        p.start(true, true);
        for (int at = 0; at < bytes.length && p.state() == HeadParser.MORE; at += piece) {
            p.feed(bytes, at, Math.min(piece, bytes.length - at));
        }
        return p;
    }

    private static HeadParser parse(String text) {
        return parse(text, 65536, Integer.MAX_VALUE);
    }

    @Test
    @DisplayName("a request line and headers; the body is not consumed")
    void request() {
        byte[] bytes = "PUT /a%20b?x=1 HTTP/1.0\r\nHost:  h \r\nContent-Length: 3\r\n\r\nabc".getBytes(StandardCharsets.US_ASCII);
        HeadParser p = new HeadParser(1024);
        p.start(true, false);
        assertEquals(bytes.length - 3, p.feed(bytes, 0, bytes.length));
        assertEquals(HeadParser.DONE, p.state());
        assertEquals("PUT", p.method);
        assertEquals("/a%20b?x=1", p.target);
        assertEquals("1.0", p.version);
        assertEquals(List.of(new Exchange.Header("Host", "h"), new Exchange.Header("Content-Length", "3")), p.headers);
        assertEquals(3, p.contentLength);
    }

    @Test
    @DisplayName("status lines with and without a reason phrase")
    void statusLines() {
        assertEquals("Not Found", parse("HTTP/1.1 404 Not Found\r\n\r\n").reason);
        assertEquals("", parse("HTTP/1.1 204\r\n\r\n").reason);
        assertEquals("", parse("HTTP/1.1 200 \r\n\r\n").reason);
        assertEquals(503, parse("HTTP/1.0 503 Service Unavailable\n\n").status);
    }

    @Test
    @DisplayName("what is not a start line is rejected at the first byte that proves it")
    void rejectsEarly() {
        for (String bad : List.of("\u0016\u0003\u0001", "GET  / HTTP/1.1", "GET / HTTP/2.0\r\n", "HTTP/1.1 20 OK\r\n",
                "get/ HTTP/1.1\r\n", "GET / HTTP/1.1\r\r\n", "SSH-2.0-OpenSSH\r\n", "220 smtp ready\r\n",
                "A".repeat(StartLineScanner.MAX_METHOD + 1) + " / HTTP/1.1\r\n", "GET /\u0000 HTTP/1.1\r\n")) {
            assertEquals(HeadParser.INVALID, parse(bad).state(), bad);
        }
        HeadParser tls = new HeadParser(1024);
        tls.start(true, true);
        assertEquals(0, tls.feed(new byte[] {0x16, 3, 1, 0, 5}, 0, 5), "nothing consumed from a TLS record");
    }

    @Test
    @DisplayName("only the kind of start line allowed for the side is accepted")
    void kindAllowed() {
        HeadParser p = new HeadParser(1024);
        p.start(false, true);
        byte[] req = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        p.feed(req, 0, req.length);
        assertEquals(HeadParser.INVALID, p.state());
    }

    @Test
    @DisplayName("split at every byte offset, the result is the same")
    void everySplit() {
        String head = "\r\nPOST /x HTTP/1.1\r\nA: 1\r\nB: two\r\n\tfolded\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n";
        HeadParser whole = parse(head);
        for (int piece = 1; piece < head.length(); piece++) {
            HeadParser p = parse(head, 65536, piece);
            assertEquals(HeadParser.DONE, p.state(), "piece " + piece);
            assertEquals(whole.headers, p.headers, "piece " + piece);
            assertTrue(p.chunked);
        }
        assertEquals(new Exchange.Header("B", "two folded"), whole.headers.get(1));
    }

    @Test
    @DisplayName("Content-Length: a list of equal values is one value; anything else is invalid")
    void contentLength() {
        assertEquals(42, parse("HTTP/1.1 200 OK\r\nContent-Length: 42, 42\r\n\r\n").contentLength);
        assertTrue(parse("HTTP/1.1 200 OK\r\nContent-Length: 42, 43\r\n\r\n").contentLengthInvalid);
        assertTrue(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n").contentLengthInvalid);
        assertTrue(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").contentLengthInvalid);
        assertTrue(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n").contentLengthInvalid);
    }

    @Test
    @DisplayName("Transfer-Encoding: chunked only when it is the final coding")
    void transferEncoding() {
        assertTrue(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").chunked);
        HeadParser p = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
        assertTrue(p.transferEncoding);
        assertFalse(p.chunked);
    }

    @Test
    @DisplayName("past the limit: truncated, headers so far kept, framing headers still read, end of head found")
    void truncation() {
        String head = "GET / HTTP/1.1\r\nA: 1\r\nB: " + "x".repeat(200) + "\r\nContent-Length: 7\r\nC: 3\r\n\r\n";
        for (int piece : new int[] {1, 7, 1000}) {
            HeadParser p = parse(head, 128, piece);
            assertEquals(HeadParser.DONE, p.state());
            assertTrue(p.truncated);
            assertEquals(List.of(new Exchange.Header("A", "1")), p.headers);
            assertEquals(7, p.contentLength);
        }
    }

    @Test
    @DisplayName("a start line longer than the limit is not HTTP")
    void longStartLine() {
        assertEquals(HeadParser.INVALID, parse("GET /" + "a".repeat(200) + " HTTP/1.1\r\n\r\n", 128, 10).state());
    }

    @Test
    @DisplayName("malformed header lines are counted and skipped")
    void malformed() {
        HeadParser p = parse("HTTP/1.1 200 OK\r\n: empty name\r\nno colon\r\nsp ace: x\r\n folded first\r\nOk: y\r\n\r\n");
        assertEquals(List.of(new Exchange.Header("Ok", "y")), p.headers);
        assertEquals(4, p.malformedLines, "a fold with no header before it is malformed too");
    }
}
