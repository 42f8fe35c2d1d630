package dev.httptrace.http2;

import dev.httptrace.capture.Segment;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.Exchange.Header;
import dev.httptrace.pipeline.Tracer;
import dev.httptrace.testing.Conversation;
import dev.httptrace.testing.H2;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static dev.httptrace.testing.H2.block;
import static dev.httptrace.testing.H2.cat;
import static dev.httptrace.testing.H2.data;
import static dev.httptrace.testing.H2.headers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HTTP/2 from packets: one record per stream, in the schema HTTP/1 uses, honest about what HPACK hid. */
class Http2Test {

    private final List<Exchange> exchanges = new ArrayList<>();
    private final Tracer tracer = new Tracer(exchanges::add, Tracer.Settings.defaults());

    private List<Exchange> trace(List<Segment> segments) {
        for (Segment s : segments) {
            tracer.expire(s.timestampNanos());
            tracer.accept(s);
        }
        tracer.finish();
        exchanges.sort(Comparator.comparingInt(x -> x.http2().streamId()));
        return exchanges;
    }

    private Exchange only(List<Segment> segments) {
        List<Exchange> all = trace(segments);
        assertEquals(1, all.size(), () -> "records: " + all);
        return all.getFirst();
    }

    /** A prior-knowledge connection up to and including both SETTINGS. */
    private static Conversation opened() {
        return Conversation.create().handshake()
                .client(cat(H2.PREFACE, H2.settings(0x3, 100)))
                .server(H2.settings(0x4, 65535));
    }

    private static String header(List<Header> headers, String name) {
        return headers.stream().filter(h -> h.name().equals(name)).map(Header::value).findFirst().orElse(null);
    }

    @Test
    void aGetOnAPriorKnowledgeConnectionIsOneRecordWithTheFieldsHttp1Uses() {
        Exchange x = only(opened()
                .client(headers(1, true, block(":method GET", ":scheme http", ":path /hello?x=1",
                        ":authority example.com", "user-agent h2test/1")))
                .server(cat(headers(1, false, block(":status 200", "content-type text/plain")), data(1, true, "hello")))
                .clientFin().serverFin().segments());

        assertEquals("2", x.request().version());
        assertEquals("GET", x.request().method());
        assertEquals("/hello?x=1", x.request().target());
        assertEquals("example.com", header(x.request().headers(), "host"), ":authority is the host");
        assertEquals("h2test/1", header(x.request().headers(), "user-agent"));
        assertEquals(200, x.response().statusCode());
        assertNull(x.response().reason(), "HTTP/2 has no reason phrase");
        assertEquals("text/plain", header(x.response().headers(), "content-type"));
        assertEquals(0, x.request().bodySize());
        assertEquals(5, x.response().bodySize());
        assertEquals(40000, x.client().port());
        assertEquals(80, x.server().port());
        assertEquals(1, x.http2().streamId());
        assertEquals("complete", x.http2().end());
        assertEquals("http", x.http2().scheme());
        assertEquals(0, x.http2().unknownFields());
        assertFalse(x.http2().joinedMidStream());
        assertTrue(x.http2().requestHeadersSeen());
        assertFalse(x.trace().gap());
        assertTrue(x.response().timestampNanos() > x.request().timestampNanos());
        assertEquals(1, tracer.stats().http2().connections());
        assertEquals(1, tracer.stats().http2().streams());
        assertEquals(0, tracer.stats().nonHttpFlows(), "HTTP/2 is never reported as something HTTP/1 could not read");
        assertEquals(0, tracer.stats().parseErrors());
    }

    @Test
    void concurrentStreamsOnOneConnectionArePairedByStreamIdNotByOrder() {
        List<Exchange> all = trace(opened()
                .client(cat(headers(1, true, block(":method GET", ":scheme http", ":path /a")),
                        headers(3, true, block(":method GET", ":scheme http", ":path /b")),
                        headers(5, false, block(":method POST", ":scheme http", ":path /c")), data(5, true, "12345678")))
                .server(cat(headers(5, false, block(":status 500")), headers(3, true, block(":status 404"))))
                .server(cat(headers(1, false, block(":status 200")), data(1, false, "ab"), data(5, true, "xyz"),
                        data(1, true, "cd")))
                .segments());

        assertEquals(List.of("/a 200 0 4", "/b 404 0 0", "/c 500 8 3"), all.stream()
                .map(x -> x.request().target() + " " + x.response().statusCode() + " " + x.request().bodySize() + " "
                        + x.response().bodySize()).toList());
    }

    @Test
    void anUpgradeToH2cMakesTheUpgradedRequestStreamOneAndReadsTheRestAsHttp2() {
        List<Segment> segments = Conversation.create().handshake()
                .client("GET /up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                        + "HTTP2-Settings: AAMAAABkAAQAAP__\r\nUser-Agent: up/1\r\n\r\n")
                .server(cat(Conversation.bytes("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"),
                        H2.settings(0x3, 100), headers(1, false, block(":status 200")), data(1, true, "upgraded")))
                .client(cat(H2.PREFACE, H2.settings(), headers(3, true, block(":method GET", ":scheme http", ":path /after"))))
                .server(headers(3, true, block(":status 204")))
                .segments();
        for (Segment seg : segments) tracer.accept(seg);
        tracer.finish();

        assertEquals(3, exchanges.size(), () -> "records: " + exchanges);
        Exchange switched = exchanges.stream().filter(x -> x.http2() == null).findFirst().orElseThrow();
        assertEquals(101, switched.response().statusCode());
        assertTrue(switched.trace().upgraded());
        Exchange one = exchanges.stream().filter(x -> x.http2() != null && x.http2().streamId() == 1).findFirst().orElseThrow();
        assertEquals("GET", one.request().method());
        assertEquals("/up", one.request().target());
        assertEquals("up/1", header(one.request().headers(), "User-Agent"));
        assertEquals(200, one.response().statusCode());
        assertEquals(8, one.response().bodySize());
        assertEquals("complete", one.http2().end());
        Exchange three = exchanges.stream().filter(x -> x.http2() != null && x.http2().streamId() == 3).findFirst().orElseThrow();
        assertEquals("/after", three.request().target());
        assertEquals(204, three.response().statusCode());
        assertEquals(40000, three.client().port());
    }

    @Test
    void paddingIsNotCountedAndContinuationFramesCompleteAHeaderBlock() {
        byte[] b = block(":method GET", ":scheme http", ":path /padded", "x-long " + "v".repeat(100));
        byte[] first = java.util.Arrays.copyOfRange(b, 0, 10);
        byte[] rest = java.util.Arrays.copyOfRange(b, 10, b.length);
        byte[] paddedData = cat(new byte[] {4}, "body".getBytes(), new byte[4]); // pad length 4, "body", 4 zero bytes
        Exchange x = only(opened()
                .client(cat(H2.frame(H2.HEADERS, H2.END_STREAM, 1, first), H2.frame(H2.CONTINUATION, H2.END_HEADERS, 1, rest)))
                .server(cat(headers(1, false, block(":status 200")), H2.frame(H2.DATA, H2.END_STREAM | H2.PADDED, 1, paddedData)))
                .segments());

        assertEquals("/padded", x.request().target());
        assertEquals("v".repeat(100), header(x.request().headers(), "x-long"));
        assertEquals(4, x.response().bodySize(), "padding is not body");
    }

    @Test
    void aStreamResetByTheClientSaysSoWithTheErrorName() {
        Exchange x = only(opened()
                .client(headers(1, true, block(":method GET", ":scheme http", ":path /slow")))
                .client(H2.rst(1, 8))
                .segments());

        assertEquals("rst_stream", x.http2().end());
        assertEquals("CANCEL", x.http2().reset().error());
        assertEquals(8, x.http2().reset().errorCode());
        assertEquals("client", x.http2().reset().by());
        assertNull(x.response());
        assertEquals("rst_stream", x.trace().unanswered());
        assertEquals(1, tracer.stats().http2().rstStreams());
    }

    @Test
    void streamsAboveAGoAwaysLastStreamIdEndWithIt() {
        List<Exchange> all = trace(opened()
                .client(cat(headers(1, true, block(":method GET", ":scheme http", ":path /one")),
                        headers(3, true, block(":method GET", ":scheme http", ":path /two"))))
                .server(cat(H2.goAway(1, 0), headers(1, true, block(":status 200"))))
                .segments());

        assertEquals(2, all.size());
        assertEquals("complete", all.get(0).http2().end());
        Exchange refused = all.get(1);
        assertEquals("goaway", refused.http2().end());
        assertEquals(1, refused.http2().goAway().lastStreamId());
        assertEquals("NO_ERROR", refused.http2().goAway().error());
        assertEquals("goaway", refused.trace().unanswered());
    }

    @Test
    void trailersAndGrpcFramingMakeAnRpcRecord() {
        Exchange x = only(opened()
                .client(cat(headers(1, false, block(":method POST", ":scheme http", ":path /helloworld.Greeter/SayHello",
                        "content-type application/grpc", "te trailers")), data(1, true, H2.grpcMessage(7))))
                .server(cat(headers(1, false, block(":status 200", "content-type application/grpc")),
                        data(1, false, cat(H2.grpcMessage(3), H2.grpcMessage(0))),
                        headers(1, true, block("grpc-status 5", "grpc-message not%20found"))))
                .segments());

        Exchange.Grpc g = x.http2().grpc();
        assertNotNull(g);
        assertEquals("helloworld.Greeter", g.service());
        assertEquals("SayHello", g.method());
        assertEquals(5, g.statusCode());
        assertEquals("not%20found", g.message());
        assertEquals(1, g.requestMessages());
        assertEquals(2, g.responseMessages());
        assertEquals("5", header(x.http2().trailers(), "grpc-status"));
        assertEquals(12, x.request().bodySize());
        assertEquals(13, x.response().bodySize());
    }

    /** grpc-go and grpcio index content-type and :path: after a join, the framing of DATA still tells a gRPC call. */
    @Test
    void aGrpcCallWhoseContentTypeWasLostToHpackIsToldByItsMessageFraming() {
        Conversation c = opened()
                .client(cat(headers(1, false, new H2.Block().indexed(3).indexed(6).inserted(":path", "/p.S/M")
                        .inserted("content-type", "application/grpc").bytes()), data(1, true, H2.grpcMessage(2))))
                .server(cat(headers(1, false, new H2.Block().indexed(8).inserted("content-type", "application/grpc").bytes()),
                        data(1, false, H2.grpcMessage(1)), headers(1, true, block("grpc-status 0"))));
        int joinAt = c.count();
        c.client(cat(headers(3, false, new H2.Block().indexed(3).indexed(6).indexed(63).indexed(62).bytes()),
                        data(3, true, H2.grpcMessage(4))))
                .server(cat(headers(3, false, new H2.Block().indexed(8).indexed(62).bytes()),
                        data(3, false, cat(H2.grpcMessage(1), H2.grpcMessage(2))), headers(3, true, block("grpc-status 0"))));
        List<Segment> all = c.segments();
        Exchange x = only(all.subList(joinAt, all.size()));

        assertNull(x.request().target(), ":path was indexed before the join");
        assertEquals(3, x.http2().unknownFields(), "two in the request, one in the response");
        Exchange.Grpc g = x.http2().grpc();
        assertNotNull(g, "gRPC from the framing of its DATA");
        assertNull(g.service());
        assertEquals(0, g.statusCode(), "grpc-status sent as a literal");
        assertEquals(1, g.requestMessages());
        assertEquals(2, g.responseMessages());
    }

    @Test
    void dataThatIsNotGrpcFramingWithAContentTypeLostIsNoRpc() {
        Conversation c = opened()
                .client(headers(1, true, new H2.Block().indexed(2).indexed(6).field(":path", "/a")
                        .inserted("content-type", "text/plain").bytes()))
                .server(cat(headers(1, false, new H2.Block().indexed(8).inserted("content-type", "text/html").bytes()),
                        data(1, true, "<html>")));
        int joinAt = c.count();
        c.client(headers(3, true, new H2.Block().indexed(2).indexed(6).field(":path", "/b").indexed(62).bytes()))
                .server(cat(headers(3, false, new H2.Block().indexed(8).indexed(62).bytes()), data(3, true, "<html>hello")));
        List<Segment> all = c.segments();
        Exchange x = only(all.subList(joinAt, all.size()));

        assertEquals("/b", x.request().target());
        assertNull(x.http2().grpc(), "'<html>' is no length prefix");
    }

    @Test
    void anInformationalResponseIsNotTheResponse() {
        Exchange x = only(opened()
                .client(headers(1, false, block(":method POST", ":scheme http", ":path /upload", "expect 100-continue")))
                .server(headers(1, false, block(":status 100")))
                .client(data(1, true, "payload"))
                .server(headers(1, true, block(":status 204")))
                .segments());

        assertEquals(204, x.response().statusCode());
        assertTrue(x.http2().trailers().isEmpty());
    }

    @Test
    void neverIndexedFieldsAreMarkedSensitive() {
        Exchange x = only(opened()
                .client(headers(1, true, new H2.Block().indexed(2).indexed(6).field(":path", "/me")
                        .neverIndexed("x-api-key", "s3cret").bytes()))
                .server(headers(1, true, block(":status 200")))
                .segments());

        Header key = x.request().headers().stream().filter(h -> h.name().equals("x-api-key")).findFirst().orElseThrow();
        assertTrue(key.sensitive());
    }

    @Test
    void aServerThatSpeaksFirstIsRecognisedByItsSettings() {
        Exchange x = only(Conversation.create().handshake()
                .server(H2.settings(0x3, 100))
                .client(cat(H2.PREFACE, H2.settings(), headers(1, true, block(":method GET", ":scheme http", ":path /")))).
                server(headers(1, true, block(":status 304")))
                .segments());

        assertEquals(304, x.response().statusCode());
        assertEquals("/", x.request().target());
    }

    /**
     * The first connection of a client that keeps it open: the encoder indexes :authority and a
     * custom header, then refers to them. A capture that joins after the first request knows
     * the static and literal fields of later requests, marks the rest unknown, and never guesses.
     */
    @Test
    void joinedMidWayTheFieldsFromBeforeTheJoinAreUnknownAndCountedNeverGuessed() {
        Conversation c = opened()
                .client(headers(1, true, new H2.Block().indexed(2).indexed(6).field(":path", "/first")
                        .inserted(":authority", "example.com").inserted("x-tenant", "blue").bytes()))
                .server(headers(1, true, block(":status 200")));
        int joinAt = c.count();
        // Refers to x-tenant (62, the newest) and :authority (63); then inserts one more and refers to it.
        c.client(headers(3, true, new H2.Block().indexed(2).indexed(6).field(":path", "/second")
                        .indexed(63).indexed(62).inserted("x-request-id", "r2").bytes()))
                .server(headers(3, true, block(":status 404")))
                .client(headers(5, true, new H2.Block().indexed(3).indexed(6).field(":path", "/third").indexed(62).bytes()))
                .server(headers(5, true, block(":status 200")));
        List<Segment> all = c.segments();
        List<Exchange> seen = trace(all.subList(joinAt, all.size()));

        assertEquals(2, seen.size(), () -> "records: " + seen);
        Exchange second = seen.get(0);
        assertEquals("/second", second.request().target(), "a literal :path survives the join");
        assertEquals("GET", second.request().method(), "a static :method survives the join");
        assertEquals(404, second.response().statusCode());
        assertNull(header(second.request().headers(), "host"), "the :authority entry was inserted before the join");
        assertNull(header(second.request().headers(), "x-tenant"));
        assertEquals("r2", header(second.request().headers(), "x-request-id"));
        assertEquals(2, second.http2().unknownFields());
        assertTrue(second.http2().joinedMidStream());
        Exchange third = seen.get(1);
        assertEquals("POST", third.request().method());
        assertEquals("r2", header(third.request().headers(), "x-request-id"), "an entry inserted after the join is known");
        assertEquals(0, third.http2().unknownFields());
        assertEquals(1, tracer.stats().http2().partial());
    }

    @Test
    void joinedWhileAResponseWasStreamingTheStreamIsReportedForWhatWasSeen() {
        Conversation c = opened()
                .client(headers(1, true, block(":method GET", ":scheme http", ":path /stream")))
                .server(headers(1, false, block(":status 200")))
                .server(data(1, false, "first"));
        int joinAt = c.count();
        c.server(data(1, false, "second"))
                .server(data(1, true, "third"));
        List<Segment> all = c.segments();
        Exchange x = only(all.subList(joinAt, all.size()));

        assertFalse(x.http2().requestHeadersSeen());
        assertNull(x.request().method());
        assertNull(x.request().target());
        assertNull(x.response(), "the response's HEADERS were not seen either");
        assertEquals(1, x.http2().streamId());
    }

    @Test
    void aConnectionJoinedInTheMiddleOfAFrameIsReadAsHttp2FromItsNextPlausibleSegment() {
        Conversation c = opened()
                .client(headers(1, true, block(":method GET", ":scheme http", ":path /big")))
                .server(headers(1, false, block(":status 200")));
        byte[] big = data(1, false, "z".repeat(3000));
        c.server(java.util.Arrays.copyOfRange(big, 0, 1000));
        int joinAt = c.count();
        c.server(java.util.Arrays.copyOfRange(big, 1000, big.length)) // mid-frame: not a frame chain
                .server(data(1, true, "end"))
                .client(headers(3, true, block(":method GET", ":scheme http", ":path /next")))
                .server(headers(3, true, block(":status 200")));
        List<Segment> all = c.segments();
        List<Exchange> seen = trace(all.subList(joinAt, all.size()));

        assertEquals(List.of(1, 3), seen.stream().map(x -> x.http2().streamId()).toList());
        assertEquals("/next", seen.get(1).request().target());
        assertEquals(1, tracer.stats().requests(), "stream 3's, and no HTTP/1 request made of HTTP/2 bytes");
        assertEquals(0, tracer.stats().parseErrors());
    }

    @Test
    void bodyBytesOfAnHttp1ConnectionThatLookLikeFramesDoNotMakeItHttp2() {
        List<Segment> segments = Conversation.create().handshake()
                .client("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 22\r\n\r\n")
                .client(cat(H2.settings(), H2.windowUpdate(0, 1)))
                .server("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
                .segments();
        List<Exchange> all = new ArrayList<>();
        Tracer t = new Tracer(all::add, Tracer.Settings.defaults());
        segments.forEach(t::accept);
        t.finish();

        assertEquals(1, all.size());
        assertEquals("1.1", all.getFirst().request().version());
        assertEquals(22, all.getFirst().request().bodySize());
        assertEquals(0, t.stats().http2().connections());
    }

    @Test
    void aPushedStreamSaysWhichStreamPushedIt() {
        List<Exchange> all = trace(opened()
                .client(headers(1, true, block(":method GET", ":scheme http", ":path /index.html")))
                .server(cat(H2.frame(H2.PUSH_PROMISE, H2.END_HEADERS, 1,
                                cat(new byte[] {0, 0, 0, 2}, block(":method GET", ":scheme http", ":path /style.css"))),
                        headers(1, false, block(":status 200")), data(1, true, "<html>"),
                        headers(2, false, block(":status 200")), data(2, true, "body{}")))
                .segments());

        assertEquals(2, all.size());
        Exchange pushed = all.get(0).http2().streamId() == 2 ? all.get(0) : all.get(1);
        assertEquals(1, pushed.http2().pushedBy());
        assertEquals("/style.css", pushed.request().target());
        assertEquals(6, pushed.response().bodySize());
        assertEquals(40000, pushed.client().port(), "the client is still the one that connected");
    }

    @Test
    void priorityOnlyStreamsMakeNoRecords() {
        List<Exchange> all = trace(opened()
                .client(cat(H2.frame(H2.PRIORITY, 0, 3, new byte[] {0, 0, 0, 0, 100}),
                        H2.frame(H2.PRIORITY, 0, 5, new byte[] {0, 0, 0, 0, 100}),
                        headers(7, true, block(":method GET", ":scheme http", ":path /"))))
                .server(headers(7, true, block(":status 200")))
                .segments());

        assertEquals(List.of(7), all.stream().map(x -> x.http2().streamId()).toList());
    }

    @Test
    void aStreamStillOpenWhenTheConnectionClosesIsReportedClosed() {
        Exchange x = only(opened()
                .client(headers(1, true, block(":method GET", ":scheme http", ":path /events")))
                .server(cat(headers(1, false, block(":status 200")), data(1, false, "tick")))
                .serverFin().clientFin()
                .segments());

        assertEquals("closed", x.http2().end());
        assertEquals(200, x.response().statusCode());
        assertEquals(0, x.http2().endTimestampNanos());
    }

    @Test
    void aLostSegmentInsideADataPayloadCostsOnlyThatBodysExactness() {
        Conversation c = opened()
                .client(headers(1, true, block(":method GET", ":scheme http", ":path /a")))
                .server(headers(1, false, block(":status 200")));
        byte[] d = data(1, true, "0123456789".repeat(100));
        c.server(java.util.Arrays.copyOfRange(d, 0, 300));
        int lost = c.count();
        c.server(java.util.Arrays.copyOfRange(d, 300, 600))
                .server(java.util.Arrays.copyOfRange(d, 600, d.length))
                .client(headers(3, true, block(":method GET", ":scheme http", ":path /b")))
                .server(headers(3, true, block(":status 200")));
        List<Segment> segments = new ArrayList<>(c.segments());
        segments.remove(lost);
        for (Segment s : segments) tracer.accept(s);
        tracer.captureLost(); // the capture says it lost records: the hole is a gap now
        tracer.finish();
        exchanges.sort(Comparator.comparingInt(x -> x.http2().streamId()));

        assertEquals(2, exchanges.size());
        assertEquals(1000, exchanges.get(0).response().bodySize());
        assertTrue(exchanges.get(0).trace().gap());
        assertEquals("/b", exchanges.get(1).request().target());
        assertFalse(exchanges.get(1).trace().gap());
    }
}
