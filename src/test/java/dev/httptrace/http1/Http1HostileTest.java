package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.output.JsonLinesWriter;
import dev.httptrace.output.OutputOptions;
import dev.httptrace.output.SchemaValidator;
import dev.httptrace.testing.Conversation;
import dev.httptrace.testing.Segments;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import dev.httptrace.capture.Segment;

import static dev.httptrace.http1.Http1LenientTest.BAD_REQUEST;
import static dev.httptrace.http1.Http1LenientTest.lines;
import static dev.httptrace.http1.Http1LenientTest.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Hostile and odd traffic of the kind IDS test suites keep (issue 20): where the server was
 * lenient, httptrace shows what it saw; one framing error does not lose the next request.
 */
class Http1HostileTest {

    /** The exchanges as the JSON lines output writes them. */
    static String json(Trace t) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        JsonLinesWriter w = new JsonLinesWriter(out, OutputOptions.defaults());
        t.exchanges.forEach(w::exchange);
        try {
            w.flush();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Nested
    @DisplayName("a broken version token, method and target fine")
    class BrokenVersion {
        @Test
        @DisplayName("HTTP/1., HTTP/1.x, HTTP/11, http/1.1: method and target reported, version as sent, flagged")
        void brokenVersions() {
            for (String v : List.of("HTTP/1.", "HTTP/1.x", "HTTP/11", "http/1.1", "HTTP/2.0")) {
                Trace t = Trace.of(Conversation.create().handshake()
                        .client("GET /v HTTP/1.1\r\nHost: h\r\n\r\n").server(ok("a"))
                        .client("GET / " + v + "\r\nHost: h\r\n\r\n").server(BAD_REQUEST)
                        .clientFin().serverFin().segments());
                assertEquals(List.of("GET /v 1.1 body 0 -> 200 body 1 []",
                        "GET / " + v + " body 0 -> 400 body 3 [request.version_invalid]"), lines(t), v);
                Exchange e = t.exchanges.get(1);
                assertEquals(List.of(new Exchange.Header("Host", "h")), e.request().headers(), "its headers are read");
                SchemaValidator.assertAllValid(json(t));
            }
        }

        @Test
        @DisplayName("the first request of a connection, its body framed by its headers, the next request follows")
        void firstRequestWithBody() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /p HTTP/1.x\r\nContent-Length: 3\r\n\r\nabc", "GET /b HTTP/1.1\r\n\r\n")
                    .server(ok("a"), ok("b")).clientFin().serverFin().segments());
            assertEquals(List.of("POST /p HTTP/1.x body 3 -> 200 body 1 [request.version_invalid]",
                    "GET /b 1.1 body 0 -> 200 body 1 []"), lines(t));
            assertEquals(0, t.stats().nonHttpFlows());
        }

        @Test
        @DisplayName("a version token that is not HTTP at all stays a malformed line")
        void notAVersion() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET / FTP/1.1\r\n\r\n").server(BAD_REQUEST).clientFin().serverFin().segments());
            assertEquals(List.of("null null null body 0 -> 400 body 3 [] malformed=GET / FTP/1.1"), lines(t));
        }

        @Test
        @DisplayName("joined mid-stream, a broken version is no record")
        void huntingStaysStrict() {
            Trace t = Trace.of(Conversation.create()
                    .client("GET / HTTP/1.x\r\n\r\n").server(BAD_REQUEST).clientFin().serverFin().segments());
            assertEquals(List.of(), lines(t));
        }
    }

    @Nested
    @DisplayName("simple (two-token) request lines with any method")
    class SimpleRequests {
        @Test
        @DisplayName("POST /x, CONNECT /x, HEAD /x, an extension method: HTTP/0.9 when the answer has no status line")
        void anyMethodHttp09() {
            for (String method : List.of("POST", "CONNECT", "HEAD", "PURGE", "get")) {
                Trace t = Trace.of(Conversation.create().handshake()
                        .client(method + " /x\r\n").server("<html>x</html>").serverFin().clientFin().segments());
                assertEquals(List.of(method + " /x 0.9 body 0 -> 0 body 14 []"), lines(t), method);
                assertEquals(0, t.stats().nonHttpFlows() + t.stats().parseErrors(), method);
            }
        }

        @Test
        @DisplayName("answered with a status line: an ordinary response (HEAD's has no body, CONNECT's 2xx upgrades)")
        void anyMethodAnsweredWithStatusLine() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /x\r\n").server(BAD_REQUEST).serverFin().clientFin().segments());
            assertEquals(List.of("POST /x 0.9 body 0 -> 400 body 3 []"), lines(t));
            Trace head = Trace.of(Conversation.create().handshake()
                    .client("HEAD /x\r\n").server("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n").serverFin().clientFin()
                    .segments());
            assertEquals(List.of("HEAD /x 0.9 body 0 -> 200 body 0 []"), lines(head));
        }
    }

    @Nested
    @DisplayName("HTTP/0.9 conversations")
    class Http09Conversations {
        @Test
        @DisplayName("several simple requests on one connection, each answered by a status line")
        void severalSimpleRequests() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /a\r\n").server(ok("a"))
                    .client("GET /b\r\n").server(ok("bb"))
                    .client("POST /c\r\n").server(ok("ccc"))
                    .clientFin().serverFin().segments());
            assertEquals(List.of("GET /a 0.9 body 0 -> 200 body 1 []", "GET /b 0.9 body 0 -> 200 body 2 []",
                    "POST /c 0.9 body 0 -> 200 body 3 []"), lines(t));
        }

        @Test
        @DisplayName("several simple requests in one segment: the first answered by the raw bytes, the others not")
        void pipelinedSimpleRequests() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /a\r\nGET /b\r\n").server("<a>", "</a>").serverFin().clientFin().segments());
            assertEquals(List.of("GET /a 0.9 body 0 -> 0 body 7 []", "GET /b 0.9 body 0 -> unanswered []"), lines(t));
        }

        @Test
        @DisplayName("a simple request after a 1.x exchange: answered by the raw bytes until the close")
        void simpleAfterHttp11() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /a HTTP/1.1\r\nHost: h\r\n\r\n").server(ok("a"))
                    .client("GET /b\r\n").server("<html>b</html>").serverFin().clientFin().segments());
            assertEquals(List.of("GET /a 1.1 body 0 -> 200 body 1 []", "GET /b 0.9 body 0 -> 0 body 14 []"), lines(t));
        }

        @Test
        @DisplayName("the 0.9 answer's bytes captured before the request: it waits for it")
        void answerBeforeRequest() {
            List<Segment> s = Conversation.create().handshake()
                    .client("GET /a\r\n").server("<html>a</html>", "more").serverFin().clientFin().segments();
            // The request (segment 2) overtaken by the answer (3), as records of two CPUs interleave.
            List<Segment> reordered = new ArrayList<>(s);
            reordered.add(3, reordered.remove(2));
            Trace t = Trace.of(reordered);
            assertEquals(List.of("GET /a 0.9 body 0 -> 0 body 18 []"), lines(t));
            assertEquals(0, t.stats().orphanResponses() + t.stats().parseErrors());
        }
    }

    @Nested
    @DisplayName("smuggling variants: framed as a lenient server would, the hidden request its own record")
    class Smuggling {
        static final String ADMIN = "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n";

        @Test
        @DisplayName("a chunk size overflowing 64 bits wraps to the last chunk: the hidden request follows, flagged")
        void chunkSizeOverflow() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /front HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "10000000000000000\r\n\r\n" + ADMIN)
                    .server(ok("f"), ok("admin")).clientFin().serverFin().segments());
            assertEquals(List.of("POST /front 1.1 body 0 -> 200 body 1 [request.chunked_invalid]",
                    "GET /admin 1.1 body 0 -> 200 body 5 []"), lines(t));
        }

        @Test
        @DisplayName("leading zeros in a chunk size are no overflow")
        void leadingZeros() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000003\r\nabc\r\n0\r\n\r\n"
                            + ADMIN)
                    .server(ok("a"), ok("admin")).clientFin().serverFin().segments());
            assertEquals(List.of("POST /a 1.1 body 3 -> 200 body 1 []", "GET /admin 1.1 body 0 -> 200 body 5 []"), lines(t));
        }

        @Test
        @DisplayName("chunked, chunked: one chunked body, flagged; the hidden request follows")
        void chunkedTwice() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /front HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n" + ADMIN)
                    .server(ok("f"), ok("admin")).clientFin().serverFin().segments());
            assertEquals(List.of("POST /front 1.1 body 0 -> 200 body 1 [request.transfer_encoding_repeated]",
                    "GET /admin 1.1 body 0 -> 200 body 5 []"), lines(t));
            SchemaValidator.assertAllValid(json(t));
        }

        @Test
        @DisplayName("gzip then chunked on two lines: chunked (the last coding), flagged")
        void twoHeaderLines() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /front HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "3\r\nabc\r\n0\r\n\r\n" + ADMIN)
                    .server(ok("f"), ok("admin")).clientFin().serverFin().segments());
            assertEquals(List.of("POST /front 1.1 body 3 -> 200 body 1 [request.transfer_encoding_repeated]",
                    "GET /admin 1.1 body 0 -> 200 body 5 []"), lines(t));
        }

        @Test
        @DisplayName("Transfer-Encoding continued by obsolete line folding: unfolded, so chunked; the hidden request follows")
        void foldedTransferEncoding() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /front HTTP/1.1\r\nContent-Length: 42\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + ADMIN)
                    .server(ok("f"), ok("admin")).clientFin().serverFin().segments());
            assertEquals(List.of(
                    "POST /front 1.1 body 0 -> 200 body 1 [request.transfer_encoding_with_content_length, request.obs_fold]",
                    "GET /admin 1.1 body 0 -> 200 body 5 []"), lines(t));
        }

        @Test
        @DisplayName("a bad chunk delimiter: parsing resumes at the next request line, not at the next segment")
        void resumeAtNextRequest() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /front HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n" + ADMIN)
                    .server(BAD_REQUEST, ok("admin")).clientFin().serverFin().segments());
            assertEquals(List.of("POST /front 1.1 body 3 -> 400 body 3 [request.chunked_invalid]",
                    "GET /admin 1.1 body 0 -> 200 body 5 []"), lines(t));
        }

        @Test
        @DisplayName("a Content-Length body that carries a complete request: body (as servers frame it), flagged")
        void bodyCarriesRequest() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /front HTTP/1.1\r\nContent-Length: " + ADMIN.length() + "\r\n\r\n" + ADMIN)
                    .server(ok("f")).clientFin().serverFin().segments());
            assertEquals(List.of("POST /front 1.1 body " + ADMIN.length() + " -> 200 body 1 [request.body_with_request]"),
                    lines(t));
            SchemaValidator.assertAllValid(json(t));
        }
    }

    @Nested
    @DisplayName("desynchronised streams: later requests pair with the right answers again")
    class Desynchronised {
        @Test
        @DisplayName("garbage after a complete request: no record, the next request is not lost")
        void trailingGarbage() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /a HTTP/1.1\r\n\r\n\u0000\u0001garbage\r\n").server(ok("a"))
                    .client("GET /b HTTP/1.1\r\n\r\n").server(ok("bb"))
                    .clientFin().serverFin().segments());
            assertEquals(List.of("GET /a 1.1 body 0 -> 200 body 1 []", "GET /b 1.1 body 0 -> 200 body 2 []"), lines(t));
        }

        @Test
        @DisplayName("CRLF cruft after a complete request: no record, the next request is not lost")
        void trailingCrlf() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\n\r\n").server(ok("a"))
                    .client("GET /b HTTP/1.1\r\n\r\n").server(ok("bb"))
                    .clientFin().serverFin().segments());
            assertEquals(List.of("POST /a 1.1 body 1 -> 200 body 1 []", "GET /b 1.1 body 0 -> 200 body 2 []"), lines(t));
        }

        @Test
        @DisplayName("a malformed request in the middle answered with 400: each answer pairs with its own request")
        void malformedInTheMiddle() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /a HTTP/1.1\r\n\r\n\u0001\u0002 junk\r\nGET /b HTTP/1.1\r\n\r\n")
                    .server(ok("a"), BAD_REQUEST.replace("Connection: close\r\n", ""), ok("bb"))
                    .clientFin().serverFin().segments());
            assertEquals(List.of("GET /a 1.1 body 0 -> 200 body 1 []",
                    "null null null body 0 -> 400 body 3 [] malformed=\u0001\u0002 junk",
                    "GET /b 1.1 body 0 -> 200 body 2 []"), lines(t));
        }

        @Test
        @DisplayName("a response to a request that was lost: the next request still gets its own answer")
        void answerToALostRequest() {
            // The first request's chunked body is broken where no request line follows: the server
            // answered a request hidden in it that httptrace could not see.
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                    .server(BAD_REQUEST.replace("Connection: close\r\n", ""))
                    .client("GET /b HTTP/1.1\r\n\r\n").server(ok("bb"))
                    .clientFin().serverFin().segments());
            assertEquals(List.of("POST /a 1.1 body 0 -> 400 body 3 [request.chunked_invalid]",
                    "GET /b 1.1 body 0 -> 200 body 2 []"), lines(t));
        }
    }
}
