package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;

import dev.httptrace.testing.Conversation;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.httptrace.http1.Trace.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed and hostile traffic that a real server answered: lenient where a message is known to
 * start (a connection seen from its SYN, right after a complete message), strict where hunting.
 */
class Http1LenientTest {
    static final String BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad";

    static String ok(String body) {
        return "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    static String line(Exchange e) {
        Exchange.Response r = e.response();
        return e.request().method() + " " + e.request().target() + " " + e.request().version() + " body "
                + e.request().bodySize() + " -> " + (r == null ? "unanswered" : r.statusCode() + " body " + r.bodySize())
                + " " + e.trace().anomalies() + (e.trace().malformedRequest() == null ? "" : " malformed=" + e.trace().malformedRequest());
    }

    static List<String> lines(Trace t) {
        return t.exchanges.stream().map(Http1LenientTest::line).toList();
    }

    @Nested
    @DisplayName("request lines servers accept")
    class RequestLines {
        @Test
        @DisplayName("a target with a space, an empty target, lower-case and extension methods are requests")
        void oddButAccepted() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("CONNECT mail.example:25 / HTTP/1.0\r\n\r\n")
                    .server("HTTP/1.1 405 Not Allowed\r\nContent-Length: 1\r\n\r\na")
                    .client("GET HTTP/1.1\r\nHost: h\r\n\r\n").server(ok("bb"))
                    .client("get /lower HTTP/1.1\r\n\r\n").server(ok("c"))
                    .client("X-VERY-LONG-EXTENSION-METHOD-NAME-OF-40-CHARS /ext HTTP/1.1\r\n\r\n").server(ok("d"))
                    .clientFin().serverFin().segments());
            assertEquals(List.of(
                    "CONNECT mail.example:25 / 1.0 body 0 -> 405 body 1 [request.target_with_space]",
                    "GET  1.1 body 0 -> 200 body 2 [request.target_empty]",
                    "get /lower 1.1 body 0 -> 200 body 1 []",
                    "X-VERY-LONG-EXTENSION-METHOD-NAME-OF-40-CHARS /ext 1.1 body 0 -> 200 body 1 []"), lines(t));
            assertEquals(0, t.stats().parseErrors());
        }

        @Test
        @DisplayName("HTTP/0.9: GET /path alone; the answer is the raw bytes until the close, version 0.9, no status")
        void http09() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /old\r\n").server("<html>old</html>\n", "more\n").serverFin().clientFin().segments());
            Exchange e = t.only();
            assertEquals("GET /old 0.9 body 0 -> 0 body 22 []", line(e));
            assertEquals("0.9", e.response().version());
            assertEquals(0, t.stats().nonHttpFlows() + t.stats().parseErrors());
        }

        @Test
        @DisplayName("HTTP/0.9 answered with a status line anyway: an ordinary response")
        void http09AnsweredWithStatusLine() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /old\r\n").server(BAD_REQUEST).serverFin().clientFin().segments());
            assertEquals("GET /old 0.9 body 0 -> 400 body 3 []", line(t.only()));
        }
    }

    @Nested
    @DisplayName("responses to requests that cannot be parsed")
    class MalformedRequests {
        @Test
        @DisplayName("a 400 to a line that is no request: reported, with the raw line and a null method")
        void answeredWithBadRequest() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /a\u0001b HTTP/1.1\r\nHost: h\r\n\r\n").server(BAD_REQUEST).serverFin().clientFin().segments());
            Exchange e = t.only();
            assertNull(e.request().method());
            assertNull(e.request().target());
            assertEquals("GET /a\u0001b HTTP/1.1", e.trace().malformedRequest());
            assertEquals(400, e.response().statusCode());
            assertEquals(3, e.response().bodySize());
            assertEquals(1, t.stats().requests(), "answered: counted as a request");
        }

        @Test
        @DisplayName("after a good exchange, bytes that are no request and their 405 make a second exchange")
        void afterAGoodExchange() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /ok HTTP/1.1\r\n\r\n").server(ok("x"))
                    .client("(nonsense)\r\n\r\n").server("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    .clientFin().serverFin().segments());
            assertEquals(List.of("GET /ok 1.1 body 0 -> 200 body 1 []",
                    "null null null body 0 -> 405 body 0 [] malformed=(nonsense)"), lines(t));
        }

        @Test
        @DisplayName("the raw line is cut at 256 characters")
        void rawLineBounded() {
            String junk = "\u0002".repeat(1000);
            Trace t = Trace.of(Conversation.create().handshake()
                    .client(junk + "\r\n").server(BAD_REQUEST).serverFin().segments());
            assertEquals(Exchange.TraceInfo.MAX_MALFORMED_LINE, t.only().trace().malformedRequest().length());
        }

        @Test
        @DisplayName("bytes that are no request and get no HTTP answer make no record (TLS, a closed connection)")
        void unansweredMakesNoRecord() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\n\u00a1\u0003\u0003")
                    .server("\u0016\u0003\u0003\u0000\u007a\u0002\u0000\u0000\u0076").clientFin().serverFin().segments());
            assertTrue(t.exchanges.isEmpty(), () -> describe(t.exchanges));
            assertEquals(1, t.stats().nonHttpFlows());
            assertEquals(0, t.stats().requests());
        }
    }

    @Nested
    @DisplayName("framing errors: flagged, framed as a lenient server would, parsing goes on")
    class FramingErrors {
        @Test
        @DisplayName("an invalid Content-Length in a request: no body, the next request follows")
        void invalidContentLength() {
            for (String value : List.of("-5", "abc", "99999999999999999999999")) {
                Trace t = Trace.of(Conversation.create().handshake()
                        .client("POST /a HTTP/1.1\r\nContent-Length: " + value + "\r\n\r\n")
                        .server(BAD_REQUEST)
                        .client("GET /b HTTP/1.1\r\n\r\n").server(ok("b"))
                        .clientFin().serverFin().segments());
                assertEquals(List.of("POST /a 1.1 body 0 -> 400 body 3 [request.content_length_invalid]",
                        "GET /b 1.1 body 0 -> 200 body 1 []"), lines(t), value);
            }
        }

        @Test
        @DisplayName("conflicting Content-Length headers: the first one frames the body")
        void conflictingContentLength() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc")
                    .client("GET /b HTTP/1.1\r\n\r\n")
                    .server(ok("a"), ok("b")).clientFin().serverFin().segments());
            assertEquals(List.of("POST /a 1.1 body 3 -> 200 body 1 [request.content_length_conflict]",
                    "GET /b 1.1 body 0 -> 200 body 1 []"), lines(t));
        }

        @Test
        @DisplayName("an invalid Content-Length in a response: the body runs to the close")
        void invalidContentLengthInResponse() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /a HTTP/1.1\r\n\r\n")
                    .server("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nsome body").serverFin().clientFin().segments());
            assertEquals("GET /a 1.1 body 0 -> 200 body 9 [response.content_length_invalid]", line(t.only()));
        }

        @Test
        @DisplayName("request smuggling (Transfer-Encoding and Content-Length): chunked wins, two requests, flagged")
        void smuggling() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /front HTTP/1.1\r\nHost: h\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n")
                    .server(ok("f"), ok("admin")).clientFin().serverFin().segments());
            assertEquals(List.of("POST /front 1.1 body 0 -> 200 body 1 [request.transfer_encoding_with_content_length]",
                    "GET /admin 1.1 body 0 -> 200 body 5 []"), lines(t));
        }

        @Test
        @DisplayName("an unknown transfer coding in a request: ignored, Content-Length frames the body")
        void unknownCoding() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /a HTTP/1.1\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\nhi")
                    .client("GET /b HTTP/1.1\r\n\r\n")
                    .server(ok("a"), ok("b")).clientFin().serverFin().segments());
            assertEquals(List.of(
                    "POST /a 1.1 body 2 -> 200 body 1 [request.transfer_encoding_unknown, request.transfer_encoding_with_content_length]",
                    "GET /b 1.1 body 0 -> 200 body 1 []"), lines(t));
        }

        @Test
        @DisplayName("a chunk size beyond 2^63: the message ends there, flagged; the next request at a segment start follows")
        void hugeChunkSize() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nxx")
                    .server(BAD_REQUEST)
                    .client("GET /b HTTP/1.1\r\n\r\n").server(ok("b"))
                    .clientFin().serverFin().segments());
            assertEquals(List.of("POST /a 1.1 body 0 -> 400 body 3 [request.chunked_invalid]",
                    "GET /b 1.1 body 0 -> 200 body 1 []"), lines(t));
        }

        @Test
        @DisplayName("obsolete line folding: the value continues, the message is flagged")
        void obsFold() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /a HTTP/1.1\r\nX-Long: one\r\n two\r\n\r\n").server(ok("a"))
                    .clientFin().serverFin().segments());
            Exchange e = t.only();
            assertEquals(List.of(new Exchange.Header("X-Long", "one two")), e.request().headers());
            assertEquals(List.of("request.obs_fold"), e.trace().anomalies());
        }

        @Test
        @DisplayName("a body cut short by the end of the connection is flagged")
        void bodyCutShort() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /a HTTP/1.1\r\n\r\n").server("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell")
                    .serverFin().clientFin().segments());
            assertEquals("GET /a 1.1 body 0 -> 200 body 4 [response.body_incomplete]", line(t.only()));
        }
    }

    @Nested
    @DisplayName("strict where hunting")
    class StrictWhenHunting {
        @Test
        @DisplayName("joined mid-stream, odd request lines and framing errors give no record")
        void midStream() {
            Trace t = Trace.of(Conversation.create()
                    .client("GET /a b HTTP/1.1\r\n\r\n").server(ok("a"))
                    .client("GET /nine\r\n").server("<html>")
                    .clientFin().serverFin().segments());
            assertTrue(t.exchanges.isEmpty(), () -> describe(t.exchanges));
        }

        @Test
        @DisplayName("a head found after lost framing with an invalid Content-Length loses the framing again")
        void resyncedHeadStaysStrict() {
            Trace t = Trace.of(Conversation.create()
                    .client("POST /a HTTP/1.1\r\nContent-Length: x\r\n\r\n", "body GET /b HTTP/1.1\r\n\r\n")
                    .server(BAD_REQUEST).clientFin().serverFin().segments());
            assertEquals(List.of("POST /a 1.1 body 0 -> 400 body 3 [request.content_length_invalid]"), lines(t));
            assertEquals(1, t.stats().parseErrors());
        }
    }
}
