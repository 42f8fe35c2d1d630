package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.pipeline.Tracer;

import dev.httptrace.capture.Segment;
import dev.httptrace.testing.Conversation;
import dev.httptrace.testing.Segments;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.httptrace.http1.Trace.describe;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the tracer reports for scripted conversations: the behaviour the CLI relies on. */
class Http1Test {
    static final String GET = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5\r\n\r\n";
    static final String OK_HELLO = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";

    static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n";
    }

    static String ok(String body) {
        return "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    static List<String> targets(Trace t) {
        return t.exchanges.stream().map(e -> e.request().target()).toList();
    }

    static List<String> bodies(Trace t) {
        return t.exchanges.stream().map(e -> e.request().target() + "=" + (e.response() == null ? "-" : e.response().bodySize())).toList();
    }

    @Test
    @DisplayName("one request and its response make one exchange with everything the output needs")
    void oneExchange() {
        Conversation c = Conversation.create().handshake();
        long requestTime = c.now();
        c.client(GET);
        long responseTime = c.now();
        c.server(OK_HELLO).clientFin().serverFin();
        Trace t = Trace.of(c.segments());

        Exchange e = t.only();
        assertEquals(1, e.ifindex());
        assertFalse(e.ipv6());
        assertArrayEquals(new byte[] {10, 0, 0, 1}, e.client().address());
        assertEquals(40000, e.client().port());
        assertArrayEquals(new byte[] {10, 0, 0, 2}, e.server().address());
        assertEquals(80, e.server().port());
        assertEquals(new Exchange.Request(requestTime, "GET", "/index.html?q=1", "1.1",
                List.of(new Exchange.Header("Host", "example.com"), new Exchange.Header("User-Agent", "curl/8.5")),
                false, 0), e.request());
        assertEquals(new Exchange.Response(responseTime, 200, "OK", "1.1",
                List.of(new Exchange.Header("Content-Type", "text/plain"), new Exchange.Header("Content-Length", "5")),
                false, 5), e.response());
        assertEquals(new Exchange.TraceInfo(null, false, 0, false), e.trace());
        Tracer.Stats s = t.stats();
        assertEquals(1, s.requests());
        assertEquals(1, s.responses());
        assertEquals(1, s.exchanges());
        assertEquals(0, s.unanswered() + s.orphanResponses() + s.parseErrors() + s.nonHttpFlows());
        assertEquals(0, s.flowsActive());
    }

    @Test
    @DisplayName("the exchange is reported as soon as the response body is complete, before the connection ends")
    void reportedWhenComplete() {
        Trace t = new Trace().feed(Conversation.create().handshake().client(GET).server(OK_HELLO).segments());
        assertEquals(1, t.exchanges.size());
    }

    @Nested
    @DisplayName("heads spanning segments")
    class Spanning {
        @Test
        @DisplayName("a request head split at every byte offset gives the same exchange")
        void requestSplitEverywhere() {
            String expected = describe(Trace.of(Conversation.create().handshake().client(GET).server(OK_HELLO).segments()).only());
            for (int k = 1; k < GET.length(); k++) {
                List<Segment> s = Conversation.create().handshake()
                        .client(GET.substring(0, k), GET.substring(k)).server(OK_HELLO).segments();
                Exchange e = Trace.of(s).only();
                // Only the response's timestamp moves (one more segment before it).
                assertEquals(expected.replace(String.valueOf(Conversation.START + 3 * Conversation.STEP),
                        String.valueOf(Conversation.START + 4 * Conversation.STEP)), describe(e), "split at " + k);
            }
        }

        @Test
        @DisplayName("a response head split at every byte offset gives the same exchange")
        void responseSplitEverywhere() {
            for (int k = 1; k < OK_HELLO.length(); k++) {
                List<Segment> s = Conversation.create().handshake()
                        .client(GET).server(OK_HELLO.substring(0, k), OK_HELLO.substring(k)).segments();
                Exchange e = Trace.of(s).only();
                assertEquals(200, e.response().statusCode(), "split at " + k);
                assertEquals(5, e.response().bodySize(), "split at " + k);
                assertEquals(2, e.response().headers().size(), "split at " + k);
                assertEquals(Conversation.START + 3 * Conversation.STEP, e.response().timestampNanos());
            }
        }

        @Test
        @DisplayName("one byte per segment")
        void byteBySegment() {
            Trace t = Trace.of(Conversation.create().handshake().clientInPieces(GET + GET, 1)
                    .serverInPieces(OK_HELLO + OK_HELLO, 1).segments());
            assertEquals(2, t.exchanges.size());
            assertEquals(5, t.exchanges.get(1).response().bodySize());
        }
    }

    @Nested
    @DisplayName("pipelining")
    class Pipelining {
        @Test
        @DisplayName("several requests in one segment and several responses in one segment pair in order")
        void inOneSegment() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client(get("/a") + get("/bb") + get("/ccc"))
                    .server(ok("1") + ok("22") + ok("333")).segments());
            assertEquals(List.of("/a=1", "/bb=2", "/ccc=3"), bodies(t));
        }

        @Test
        @DisplayName("messages cut across segments at arbitrary points pair in order")
        void acrossSegments() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .clientInPieces(get("/a") + get("/bb") + get("/ccc"), 7)
                    .serverInPieces(ok("1") + ok("22") + ok("333"), 11).segments());
            assertEquals(List.of("/a=1", "/bb=2", "/ccc=3"), bodies(t));
        }

        @Test
        @DisplayName("responses arriving before the requests they answer (records from other CPUs) still pair")
        void responseBeforeRequest() {
            List<Segment> s = Conversation.create().handshake().client(get("/a")).server(ok("1")).segments();
            Trace t = Trace.of(Segments.swap(s, 2, 3));
            assertEquals(List.of("/a=1"), bodies(t));
            assertEquals(0, t.stats().orphanResponses());
        }

        @Test
        @DisplayName("a response with no request is counted as an orphan and never reported")
        void orphan() {
            Trace t = Trace.of(Conversation.create().handshake().server(ok("x")).segments());
            assertTrue(t.exchanges.isEmpty());
            assertEquals(1, t.stats().orphanResponses());
        }
    }

    @Nested
    @DisplayName("bodies")
    class Bodies {
        @Test
        @DisplayName("Content-Length bodies are skipped exactly, even when they look like HTTP")
        void contentLengthLookingLikeHttp() {
            String body = "GET / HTTP/1.1\r\nHost: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /upload HTTP/1.1\r\nContent-Length: " + body.length() + "\r\n\r\n", body)
                    .server("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n", body)
                    .client(get("/next")).server(ok("")).segments());
            assertEquals(List.of("/upload", "/next"), targets(t));
            assertEquals(body.length(), t.exchanges.getFirst().request().bodySize());
            assertEquals(body.length(), t.exchanges.getFirst().response().bodySize());
            assertEquals(0, t.stats().orphanResponses() + t.stats().parseErrors());
        }

        @Test
        @DisplayName("chunked bodies with extensions and trailers are skipped; the size is the sum of the chunks")
        void chunked() {
            String body = "5;name=value\r\nhello\r\n1c\r\nHTTP/1.1 200 OK\r\nHost: x\r\n\r\n\r\n"
                    + "0\r\nChecksum: abc\r\nExpires: never\r\n\r\n";
            Trace t = Trace.of(Conversation.create().handshake()
                    .client(get("/chunked"))
                    .serverInPieces("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body, 9)
                    .client(get("/next")).server(ok("1")).segments());
            assertEquals(List.of("/chunked=33", "/next=1"), bodies(t));
            assertEquals(0, t.stats().orphanResponses() + t.stats().parseErrors());
        }

        @Test
        @DisplayName("request bodies: Content-Length and chunked")
        void requestBodies() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("POST /a HTTP/1.1\r\nContent-Length: 11\r\n\r\n", "hello world")
                    .server(ok(""))
                    .client("POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                    .server(ok("")).segments());
            assertEquals(11, t.exchanges.get(0).request().bodySize());
            assertEquals(3, t.exchanges.get(1).request().bodySize());
        }

        @Test
        @DisplayName("responses to HEAD, and 204 and 304, have no body whatever their headers say")
        void noBody() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n")
                    .server("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                    .client(get("/204")).server("HTTP/1.1 204 No Content\r\n\r\n")
                    .client(get("/304")).server("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n")
                    .client(get("/last")).server(ok("z")).segments());
            assertEquals(List.of("/h=0", "/204=0", "/304=0", "/last=1"), bodies(t));
            assertEquals(List.of(200, 204, 304, 200), t.exchanges.stream().map(e -> e.response().statusCode()).toList());
        }

        @Test
        @DisplayName("100 Continue is interim: the exchange waits for the final response")
        void continue100() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
                    .server("HTTP/1.1 100 Continue\r\n\r\n")
                    .client("data")
                    .server("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
                    .segments());
            Exchange e = t.only();
            assertEquals(201, e.response().statusCode());
            assertEquals(4, e.request().bodySize());
            assertEquals(1, t.stats().responses());
        }

        @Test
        @DisplayName("HTTP/1.0 and responses without a length are close-delimited: reported at FIN")
        void closeDelimited() {
            Conversation c = Conversation.create().handshake()
                    .client("GET /old HTTP/1.0\r\n\r\n")
                    .server("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n", "first part ", "GET / HTTP/1.1\r\n\r\n");
            Trace t = new Trace().feed(c.segments());
            assertTrue(t.exchanges.isEmpty(), "not before the body ends");
            t.feed(c.serverFin().segments().subList(c.count() - 1, c.count()));
            Exchange e = t.only();
            assertEquals("1.0", e.request().version());
            assertEquals(29, e.response().bodySize());
            assertNull(e.trace().unanswered());
        }

        @Test
        @DisplayName("a close-delimited body of an idle connection ends at the idle timeout")
        void closeDelimitedIdle() {
            Conversation c = Conversation.create().handshake().client(get("/x")).server("HTTP/1.1 200 OK\r\n\r\nabc");
            Trace t = new Trace().feed(c.segments());
            t.tracer.expire(c.now() + Tracer.Settings.defaults().idleTimeoutNanos());
            assertEquals(3, t.only().response().bodySize());
        }
    }

    @Nested
    @DisplayName("protocol switches")
    class Upgrades {
        @Test
        @DisplayName("101 Switching Protocols is reported upgraded, and nothing after it is parsed")
        void switchingProtocols() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                    .server("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u0081\u0005hello")
                    .client("\u0081\u0085GET / HTTP/1.1\r\n\r\n").server("HTTP/1.1 200 OK\r\n\r\n").segments());
            Exchange e = t.only();
            assertTrue(e.trace().upgraded());
            assertEquals(101, e.response().statusCode());
            assertEquals(0, t.stats().parseErrors() + t.stats().orphanResponses() + t.stats().requests() - 1);
        }

        @Test
        @DisplayName("a 101 that overtook its request (records of two CPUs) still upgrades once the request arrives")
        void switchingProtocolsBeforeRequest() {
            List<Segment> s = Conversation.create().handshake()
                    .client("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")
                    .server("HTTP/1.1 101 Switching Protocols\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
                    .client("GET /not-http-any-more HTTP/1.1\r\n\r\n").segments();
            Trace t = Trace.of(Segments.swap(s, 2, 3));
            Exchange e = t.only();
            assertTrue(e.trace().upgraded());
            assertEquals("/chat", e.request().target());
            assertEquals(0, t.stats().orphanResponses());
        }

        @Test
        @DisplayName("a 2xx to CONNECT is reported upgraded, and the tunnel is not parsed")
        void connect() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
                    .server("HTTP/1.1 200 Connection Established\r\n\r\n")
                    .client("\u0016\u0003\u0001\u0002\u0000\u0001").server("\u0016\u0003\u0003\u0000\u007a").segments());
            Exchange e = t.only();
            assertTrue(e.trace().upgraded());
            assertEquals("CONNECT", e.request().method());
            assertEquals(0, t.stats().nonHttpFlows() + t.stats().parseErrors());
        }
    }

    @Nested
    @DisplayName("capture damage")
    class Damage {
        @Test
        @DisplayName("retransmitted segments produce no second record; the exchange counts those seen before it")
        void retransmissions() {
            List<Segment> s = Conversation.create().handshake().client(GET).server(OK_HELLO).segments();
            Trace t = Trace.of(Segments.duplicate(Segments.duplicate(s, 2), 4));
            Exchange e = t.only();
            assertEquals(1, e.trace().retransmissions(), "the request's; the response's came after the report");
            assertEquals(2, t.stats().retransmittedSegments());
        }

        @Test
        @DisplayName("out-of-order segments are put back in order")
        void outOfOrder() {
            Conversation c = Conversation.create().handshake().clientInPieces(GET, 20).serverInPieces(OK_HELLO, 20);
            String expected = describe(Trace.of(c.segments()).only());
            List<Segment> s = Segments.swap(Segments.swap(c.segments(), 2, 4), 7, 8);
            Trace t = Trace.of(s);
            assertEquals(expected, describe(t.only()));
            assertEquals(3, t.stats().outOfOrderSegments(), "two client pieces ahead of the first, one server piece");
        }

        @Test
        @DisplayName("a segment lost inside a body of known length: that exchange has gap=true, the next is clean")
        void lostInsideKnownLengthBody() {
            Conversation c = Conversation.create().handshake()
                    .client(get("/a")).server("HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n", "0123456789", "0123456789", "0123456789")
                    .client(get("/b")).server(ok("fine"));
            Trace t = Trace.of(Segments.drop(c.segments(), 5));
            assertEquals(List.of("/a=30", "/b=4"), bodies(t));
            assertTrue(t.exchanges.get(0).trace().gap());
            assertFalse(t.exchanges.get(1).trace().gap());
            assertEquals(1, t.stats().gaps());
        }

        @Test
        @DisplayName("after the capture reports lost records, a missing segment is given up as a gap at once")
        void holeGivenUpWhenTheCaptureLostRecords() {
            Conversation c = Conversation.create().handshake()
                    .client(get("/a")).server("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", "abc", "def");
            Trace t = new Trace().feed(Segments.drop(c.segments(), 4));
            assertTrue(t.exchanges.isEmpty(), "still waiting for the missing segment");
            t.tracer.captureLost();
            Exchange e = t.only();
            assertEquals(6, e.response().bodySize());
            assertTrue(e.trace().gap());
            assertEquals(1, t.stats().gaps());
        }

        @Test
        @DisplayName("a missing segment waited for longer than the reorder timeout is given up as a gap by expire")
        void reorderTimeout() {
            Conversation c = Conversation.create().handshake()
                    .client(get("/a")).server("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", "abc", "def");
            Trace t = new Trace().feed(Segments.drop(c.segments(), 4));
            assertTrue(t.exchanges.isEmpty(), "still waiting for the missing segment");
            t.tracer.expire(c.now() + 150_000_000L);
            assertTrue(t.exchanges.isEmpty(), "within the reorder timeout");
            t.tracer.expire(c.now() + 200_000_000L);
            Exchange e = t.only();
            assertEquals(6, e.response().bodySize());
            assertTrue(e.trace().gap());
            assertEquals(1, t.stats().gaps());
        }

        @Test
        @DisplayName("a segment lost inside a request head: that request has gap=true, parsing resumes at the next request")
        void lostInsideHead() {
            Conversation c = Conversation.create().handshake()
                    .client(get("/a")).server(ok("1"))
                    .client("GET /b HTTP/1.1\r\n", "Host: a\r\nX-Lost: yes\r\n", "Accept: */*\r\n\r\n").server(ok("22"))
                    .client(get("/c")).server(ok("333"));
            Trace t = Trace.of(Segments.drop(c.segments(), 5));
            assertEquals(List.of("/a=1", "/b=2", "/c=3"), bodies(t));
            assertEquals(List.of(false, true, false), t.exchanges.stream().map(e -> e.trace().gap()).toList());
            assertEquals(List.of(), t.exchanges.get(1).request().headers(), "headers after the gap are unknown");
            assertEquals(0, t.stats().parseErrors());
        }

        @Test
        @DisplayName("a lost request line: the request is unknown, its response an orphan, no garbage")
        void lostRequestLine() {
            Conversation c = Conversation.create().handshake()
                    .client(get("/a")).server(ok("1"))
                    .client("GET /b HTTP/1.1\r\n", "Host: a\r\n\r\n").server(ok("22"))
                    .client(get("/c")).server(ok("333"));
            Trace t = Trace.of(Segments.drop(c.segments(), 4));
            assertEquals(List.of("/a=1", "/c=3"), bodies(t));
            assertEquals(1, t.stats().orphanResponses());
            assertFalse(t.exchanges.get(1).trace().gap());
        }

        @Test
        @DisplayName("a lost response head: its request is reported unanswered (gap), the next exchange pairs right")
        void lostResponseHead() {
            Conversation c = Conversation.create().handshake()
                    .client(get("/a")).server(ok("1"))
                    .client(get("/b")).server(ok("22"))
                    .client(get("/c")).server(ok("333"));
            Trace t = Trace.of(Segments.drop(c.segments(), 5));
            assertEquals(List.of("/a=1", "/b=-", "/c=3"), bodies(t));
            assertEquals("gap", t.exchanges.get(1).trace().unanswered());
            assertTrue(t.exchanges.get(1).trace().gap());
        }

        @Test
        @DisplayName("a lost piece of a chunked body loses framing: gap=true, resync at the next response")
        void lostInsideChunkedFraming() {
            Conversation c = Conversation.create().handshake()
                    .client(get("/a"))
                    .server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n", "4\r\nHTTP\r\n", "0\r\n\r\n")
                    .client(get("/b")).server(ok("22"));
            Trace t = Trace.of(Segments.drop(c.segments(), 5));
            assertEquals(List.of("/a=3", "/b=2"), bodies(t));
            assertTrue(t.exchanges.get(0).trace().gap());
            assertFalse(t.exchanges.get(1).trace().gap());
        }

        @Test
        @DisplayName("snap length inside a known-length body: the size stays exact, so the exchange is not marked")
        void snapLength() {
            String big = "b".repeat(1000);
            Conversation c = Conversation.create().handshake()
                    .client(get("/big")).server(ok(big)).client(get("/small")).server(ok("s"));
            Trace t = Trace.of(Segments.truncate(c.segments(), 3, 60));
            assertEquals(List.of("/big=1000", "/small=1"), bodies(t));
            assertFalse(t.exchanges.get(0).trace().gap());
            assertFalse(t.exchanges.get(1).trace().gap());
            assertEquals(0, t.stats().gaps(), "the snap length is a setting, not a loss");
        }

        @Test
        @DisplayName("snap length across chunked framing: the exchange is marked, the next one is exact")
        void snapLengthInChunkedFraming() {
            Conversation c = Conversation.create().handshake()
                    .client(get("/a"))
                    .server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\nHTTP\r\n0\r\n\r\n")
                    .client(get("/b")).server(ok("22"));
            Trace t = Trace.of(Segments.truncate(c.segments(), 3, 52));
            assertEquals(List.of("/a", "/b"), targets(t));
            assertTrue(t.exchanges.get(0).trace().gap());
            assertFalse(t.exchanges.get(1).trace().gap());
            assertEquals(2, t.exchanges.get(1).response().bodySize());
        }

        @Test
        @DisplayName("snap length inside a head: the headers seen are kept, the exchange has gap=true")
        void snapLengthInHead() {
            Conversation c = Conversation.create().handshake()
                    .client("GET /long HTTP/1.1\r\nHost: a\r\nCookie: " + "c".repeat(500) + "\r\n\r\n").server(ok("x"))
                    .client(get("/next")).server(ok("yy"));
            Trace t = Trace.of(Segments.truncate(c.segments(), 2, 40));
            assertEquals(List.of("/long=1", "/next=2"), bodies(t));
            assertEquals(List.of(new Exchange.Header("Host", "a")), t.exchanges.get(0).request().headers());
            assertTrue(t.exchanges.get(0).trace().gap());
        }
    }

    @Nested
    @DisplayName("joining mid-stream")
    class MidStream {
        @Test
        @DisplayName("joined inside a response body that contains HTTP text: no record until the next real exchange")
        void insideBody() {
            String body = "xxxxxxxxxx\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\nGET /fake HTTP/1.1\r\n\r\n";
            Conversation c = Conversation.create()
                    .client(get("/a"))
                    .server("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n", body.substring(0, 12), body.substring(12))
                    .client(get("/b")).server(ok("22"));
            Trace t = Trace.of(c.segments().subList(2, c.count()));
            assertEquals(List.of("/b=2"), bodies(t));
            assertFalse(t.exchanges.getFirst().trace().gap());
        }

        @Test
        @DisplayName("joined inside a response body at a segment that starts with a request line: the roles stay right")
        void insideBodyAtARequestLine() {
            String fake = "GET /fake HTTP/1.1\r\nHost: x\r\n\r\n";
            String body = "x".repeat(10) + fake + "filler, not a head\r\n" + fake + "the end of the body.\n";
            Conversation c = Conversation.create()
                    .client(get("/a"))
                    .server("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body.substring(0, 10),
                            body.substring(10, 10 + fake.length() + 20), body.substring(10 + fake.length() + 20))
                    .client(get("/b")).server(ok("22"));
            // The first bytes seen from this connection are the server's, and they begin a request head.
            Trace t = Trace.of(c.segments().subList(2, c.count()));
            assertEquals(List.of("/b=2"), bodies(t));
            assertFalse(t.exchanges.getFirst().trace().gap());
        }

        @Test
        @DisplayName("joined inside a body at a status line with a long Content-Length: the next response is not swallowed")
        void insideBodyAtAStatusLineWithALongLength() {
            String fake = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
            String body = "x".repeat(10) + fake + "filler";
            Conversation c = Conversation.create()
                    .client(get("/a"))
                    .server("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body.substring(0, 10),
                            body.substring(10))
                    .client(get("/b")).server(ok("22")).client(get("/c")).server(ok("333")).clientFin().serverFin();
            // The fake head answers no request; its 100000 bytes would cover both real responses.
            Trace t = Trace.of(c.segments().subList(2, c.count()));
            assertEquals(List.of("/b=2", "/c=3"), bodies(t));
            assertFalse(t.exchanges.getFirst().trace().gap());
        }

        @Test
        @DisplayName("joined inside a request body at a segment that starts with a status line: the roles stay right")
        void insideRequestBodyAtAStatusLine() {
            String fake = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            String body = fake + "filler, not a head\r\n";
            Conversation c = Conversation.create()
                    .client("POST /a HTTP/1.1\r\nContent-Length: " + (10 + body.length()) + "\r\n\r\n0123456789", body)
                    .server(ok("1")).client(get("/b")).server(ok("22"));
            Trace t = Trace.of(c.segments().subList(1, c.count()));
            assertEquals(List.of("/b=2"), bodies(t));
        }

        @Test
        @DisplayName("joined inside a request body at a status line with a long Content-Length: the server's answer sets the roles right")
        void insideRequestBodyAtAStatusLineWithALongLength() {
            String fake = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
            String body = fake + "filler, not a head\r\n";
            Conversation c = Conversation.create()
                    .client("POST /a HTTP/1.1\r\nContent-Length: " + (10 + body.length()) + "\r\n\r\n0123456789", body)
                    .server(ok("1")).client(get("/b")).server(ok("22"));
            // The client's bytes look like a response whose body would cover the next request.
            Trace t = Trace.of(c.segments().subList(1, c.count()));
            assertEquals(List.of("/b=2"), bodies(t));
            assertEquals(0, t.stats().unanswered());
        }

        @Test
        @DisplayName("joined between exchanges of a keep-alive connection: the next complete exchange is reported")
        void keepAlive() {
            Conversation c = Conversation.create()
                    .client(get("/a")).server(ok("1")).client(get("/b")).server(ok("22"));
            Trace t = Trace.of(c.segments().subList(1, c.count()));
            assertEquals(List.of("/b=2"), bodies(t));
            assertEquals(1, t.stats().orphanResponses(), "the response to /a");
        }

        @Test
        @DisplayName("joined inside a request body: nothing until the next request")
        void insideRequestBody() {
            Conversation c = Conversation.create()
                    .client("POST /a HTTP/1.1\r\nContent-Length: 40\r\n\r\n", "0123456789", "GET /x HTTP/1.1\r\nHost: b\r\n\r\n   ")
                    .server(ok("1")).client(get("/b")).server(ok("22"));
            Trace t = Trace.of(c.segments().subList(2, c.count()));
            // The body segment starts with a request head, but the bytes after it are not the next head:
            // the false request is dropped before its "response" (the one to POST) can pair with it.
            assertEquals(List.of("/b=2"), bodies(t));
            assertEquals(1, t.stats().orphanResponses());
            assertEquals(1, t.stats().requests());
        }
    }

    @Nested
    @DisplayName("not HTTP")
    class NotHttp {
        @Test
        @DisplayName("TLS produces no record and counts the flow once")
        void tls() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003")
                    .server("\u0016\u0003\u0003\u0000\u007a\u0002\u0000\u0000\u0076")
                    .client("\u0017\u0003\u0003\u0000\u0020GET / HTTP/1.1").segments());
            assertTrue(t.exchanges.isEmpty());
            assertEquals(1, t.stats().nonHttpFlows());
            assertEquals(0, t.stats().parseErrors());
        }

        @Test
        @DisplayName("random bytes on many connections produce no record")
        void randomBytes() {
            Random random = new Random(42);
            Trace t = new Trace();
            for (int i = 0; i < 200; i++) {
                Conversation c = Conversation.between(new byte[] {10, 0, 1, (byte) i}, 30000 + i, new byte[] {10, 0, 0, 2}, 80).handshake();
                for (int k = 0; k < 4; k++) {
                    byte[] junk = new byte[1 + random.nextInt(300)];
                    random.nextBytes(junk);
                    if (random.nextBoolean()) c.client(junk); else c.server(junk);
                }
                t.feed(c.segments());
            }
            t.finish();
            assertTrue(t.exchanges.isEmpty());
            assertEquals(200, t.stats().nonHttpFlows());
        }

        @Test
        @DisplayName("a text protocol (SMTP) is not HTTP")
        void smtp() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .server("220 mail.example.com ESMTP\r\n").client("EHLO me\r\n").server("250 OK\r\n").segments());
            assertTrue(t.exchanges.isEmpty());
            assertEquals(1, t.stats().nonHttpFlows());
        }
    }

    @Nested
    @DisplayName("unanswered requests")
    class Unanswered {
        @Test
        @DisplayName("the server closing without answering: closed")
        void onFin() {
            Trace t = new Trace().feed(Conversation.create().handshake().client(GET).serverFin().segments());
            Exchange e = t.only();
            assertNull(e.response());
            assertEquals("closed", e.trace().unanswered());
            assertEquals(1, t.stats().unanswered());
        }

        @Test
        @DisplayName("a reset: closed")
        void onRst() {
            Trace t = new Trace().feed(Conversation.create().handshake().client(GET).clientRst().segments());
            assertEquals("closed", t.only().trace().unanswered());
        }

        @Test
        @DisplayName("the connection idle past the timeout: timeout")
        void onIdle() {
            Conversation c = Conversation.create().handshake().client(GET);
            Trace t = new Trace().feed(c.segments());
            t.tracer.expire(c.now() + 1_000_000_000L);
            assertTrue(t.exchanges.isEmpty(), "not idle yet");
            t.tracer.expire(c.now() + Tracer.Settings.defaults().idleTimeoutNanos());
            assertEquals("timeout", t.only().trace().unanswered());
            assertEquals(0, t.stats().flowsActive());
            assertEquals(1, t.stats().flowsTimedOut());
        }

        @Test
        @DisplayName("the capture ending first: capture_end; answered ones before it are reported normally")
        void atFinish() {
            Trace t = Trace.of(Conversation.create().handshake().client(get("/a"), get("/b")).server(ok("1")).segments());
            assertEquals(List.of("/a=1", "/b=-"), bodies(t));
            assertEquals("capture_end", t.exchanges.get(1).trace().unanswered());
        }
    }

    @Test
    @DisplayName("a flood of 10 x maxFlows connections: bounded table, evictions counted, requests reported as timeout")
    void flood() {
        Tracer.Settings settings = new Tracer.Settings(100, 60_000_000_000L, 1024, 4096, 200_000_000L);
        Trace t = new Trace(settings);
        for (int i = 0; i < 1000; i++) {
            byte[] client = {10, 1, (byte) (i >> 8), (byte) i};
            t.feed(Conversation.between(client, 1024 + i, new byte[] {10, 0, 0, 2}, 80).handshake().client(get("/" + i)).segments());
            assertTrue(t.stats().flowsActive() <= 100);
        }
        assertEquals(900, t.stats().flowsEvicted());
        assertEquals(900, t.exchanges.size());
        assertTrue(t.exchanges.stream().allMatch(e -> "timeout".equals(e.trace().unanswered())));
        t.finish();
        assertEquals(1000, t.stats().unanswered());
    }

    @Test
    @DisplayName("a connection piling up unanswered requests: the first ones are tracked, the rest counted")
    void tooManyOpenExchanges() {
        Conversation c = Conversation.create().handshake();
        for (int i = 0; i < Http1Connection.MAX_OPEN_EXCHANGES + 44; i++) c.client(get("/" + i));
        Trace t = new Trace().feed(c.segments());
        assertEquals(44, t.stats().requestsDropped());
        assertTrue(t.tracer.heldHeadBytes() > 0);
        t.finish();
        assertEquals(Http1Connection.MAX_OPEN_EXCHANGES, t.exchanges.size());
        assertEquals(0, t.tracer.heldHeadBytes());
    }

    @Nested
    @DisplayName("hostile heads")
    class HostileHeads {
        @Test
        @DisplayName("a 1 MB header: head truncated, earlier headers kept, framing still right")
        void megabyteHeader() {
            String head = "POST /up HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(1 << 20) + "\r\nContent-Length: 3\r\n\r\nabc";
            Trace t = Trace.of(Conversation.create().handshake().clientInPieces(head, 1460).server(ok("1"))
                    .client(get("/after")).server(ok("22")).segments());
            assertEquals(List.of("/up=1", "/after=2"), bodies(t));
            Exchange.Request r = t.exchanges.getFirst().request();
            assertTrue(r.headTruncated());
            assertEquals(List.of(new Exchange.Header("Host", "a")), r.headers());
            assertEquals(3, r.bodySize());
        }

        @Test
        @DisplayName("10,000 header lines: the head is truncated at the limit and the rest skipped")
        void tenThousandHeaders() {
            StringBuilder head = new StringBuilder("GET /many HTTP/1.1\r\n");
            for (int i = 0; i < 10_000; i++) head.append("X-H").append(i).append(": v\r\n");
            head.append("\r\n");
            Trace t = Trace.of(Conversation.create().handshake().clientInPieces(head.toString(), 1460).server(ok("1")).segments());
            Exchange.Request r = t.only().request();
            assertTrue(r.headTruncated());
            assertTrue(r.headers().size() > 1000 && r.headers().size() < 10_000, "kept " + r.headers().size());
            assertEquals("X-H0", r.headers().getFirst().name());
        }

        @Test
        @DisplayName("NUL bytes and invalid UTF-8 decode with replacement, never throw")
        void nulAndInvalidUtf8() {
            byte[] head = Conversation.bytes("GET /caf\u00e9 HTTP/1.1\r\nX-Nul: a\u0000b\r\nX-Bad: \u00ff\u00fe\u00c3\r\n\r\n");
            Trace t = Trace.of(Conversation.create().handshake().client(head).server(ok("1")).segments());
            Exchange.Request r = t.only().request();
            assertEquals("/caf\uFFFD", r.target());
            assertEquals("a\u0000b", r.headers().get(0).value());
            assertEquals("\uFFFD\uFFFD\uFFFD", r.headers().get(1).value());
        }

        @Test
        @DisplayName("malformed header lines are counted and skipped; obs-fold continues the previous value")
        void malformedAndFolded() {
            Trace t = Trace.of(Conversation.create().handshake()
                    .client("GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\nX-Long: one\r\n  two\r\nBad Name: x\r\n\r\n")
                    .server(ok("1")).segments());
            assertEquals(List.of(new Exchange.Header("Host", "a"), new Exchange.Header("X-Long", "one two")),
                    t.only().request().headers());
            assertEquals(2, t.stats().malformedHeaderLines());
        }
    }

    @Test
    @DisplayName("sequence numbers wrapping around 2^32 in both directions")
    void wraparound() {
        Conversation c = Conversation.create(0xFFFF_FFF0L, 0xFFFF_FFE0L).handshake();
        for (int i = 0; i < 5; i++) c.clientInPieces(get("/" + i), 9).serverInPieces(ok("body" + i), 13);
        List<Segment> s = Segments.swap(c.segments(), 3, 4);
        Trace t = Trace.of(s);
        assertEquals(List.of("/0=5", "/1=5", "/2=5", "/3=5", "/4=5"), bodies(t));
        assertEquals(0, t.stats().gaps());
    }
}
