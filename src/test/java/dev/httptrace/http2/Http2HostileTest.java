package dev.httptrace.http2;

import dev.httptrace.capture.Segment;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.pipeline.Tracer;
import dev.httptrace.testing.Conversation;
import dev.httptrace.testing.H2;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static dev.httptrace.testing.H2.block;
import static dev.httptrace.testing.H2.cat;
import static dev.httptrace.testing.H2.headers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hostile HTTP/2: bounded, counted, never a crash. */
class Http2HostileTest {

    private final List<Exchange> exchanges = new ArrayList<>();
    private final Tracer tracer = new Tracer(exchanges::add, Tracer.Settings.defaults());

    private static Conversation opened() {
        return Conversation.create().handshake()
                .client(cat(H2.PREFACE, H2.settings()))
                .server(H2.settings());
    }

    private void trace(Conversation c) {
        for (Segment s : c.segments()) tracer.accept(s);
        tracer.finish();
    }

    private static byte[] request(int stream, String path) {
        return headers(stream, true, block(":method GET", ":scheme http", ":path " + path));
    }

    @Test
    void aMillionStreamsOpenedAndResetAreRecordsWithNothingLeftOpen() {
        Conversation c = opened();
        ByteArrayOutputStream batch = new ByteArrayOutputStream();
        for (int id = 1, n = 0; n < 1_000_000; id += 2, n++) {
            batch.writeBytes(request(id, "/"));
            batch.writeBytes(H2.rst(id, 8));
            if (batch.size() > 60_000) {
                c.client(batch.toByteArray());
                batch.reset();
            }
        }
        c.client(batch.toByteArray());
        for (Segment s : c.segments()) tracer.accept(s);
        tracer.finish();

        assertEquals(1_000_000, exchanges.size());
        assertTrue(exchanges.stream().allMatch(x -> "rst_stream".equals(x.http2().end())));
        assertEquals(1_000_000, tracer.stats().http2().rstStreams());
        assertEquals(0, tracer.stats().flowsActive());
    }

    @Test
    void aContinuationFloodIsCutAtTheBlockLimitAndCounted() {
        Conversation c = opened();
        c.client(H2.frame(H2.HEADERS, 0, 1, block(":method GET", ":scheme http", ":path /flood")));
        byte[] junk = new byte[16_000];
        java.util.Arrays.fill(junk, (byte) 0x40); // literal-with-indexing prefixes with empty names: junk for HPACK
        for (int i = 0; i < 100; i++) c.client(H2.frame(H2.CONTINUATION, 0, 1, junk));
        c.client(H2.frame(H2.CONTINUATION, H2.END_HEADERS, 1, new byte[0]));
        c.server(headers(1, true, block(":status 431")));
        c.client(request(3, "/after"));
        c.server(headers(3, true, block(":status 200")));
        trace(c);

        assertEquals(2, exchanges.size(), () -> "records: " + exchanges);
        Exchange flood = exchanges.stream().filter(x -> x.http2().streamId() == 1).findFirst().orElseThrow();
        assertTrue(flood.request().headTruncated());
        assertEquals(431, flood.response().statusCode());
        Exchange after = exchanges.stream().filter(x -> x.http2().streamId() == 3).findFirst().orElseThrow();
        assertEquals(200, after.response().statusCode());
        assertEquals("/after", after.request().target(), "a literal :path decodes after the client's table became unknown");
        assertEquals(1, tracer.stats().http2().errors(), "the oversized block");
    }

    @Test
    void aHeaderListFarOverAnySaneSizeIsTruncatedNotKept() {
        H2.Block b = new H2.Block().indexed(2).indexed(6).field(":path", "/many");
        for (int i = 0; i < 5000; i++) b.field("x-h" + i, "v".repeat(40));
        byte[] block = b.bytes();
        Conversation c = opened();
        c.client(H2.frame(H2.HEADERS, H2.END_STREAM, 1, java.util.Arrays.copyOfRange(block, 0, 16_000)));
        for (int at = 16_000; at < block.length; at += 16_000) {
            int end = Math.min(block.length, at + 16_000);
            c.client(H2.frame(H2.CONTINUATION, end == block.length ? H2.END_HEADERS : 0, 1,
                    java.util.Arrays.copyOfRange(block, at, end)));
        }
        c.server(headers(1, true, block(":status 200")));
        trace(c);

        Exchange x = exchanges.getFirst();
        assertTrue(x.request().headTruncated());
        assertTrue(x.request().headers().size() < 5000, "fields past the limit are dropped");
        assertEquals("/many", x.request().target());
    }

    @Test
    void aReusedStreamIdMakesNoSecondRecord() {
        trace(opened()
                .client(request(1, "/first"))
                .server(headers(1, true, block(":status 200")))
                .client(request(1, "/again"))
                .server(headers(1, true, block(":status 200"))));

        assertEquals(List.of("/first"), exchanges.stream().map(x -> x.request().target()).toList());
    }

    @Test
    void aFrameOverTheReceiversMaximumLosesTheFramingAndIsCounted() {
        trace(opened()
                .client(request(1, "/big"))
                .server(cat(headers(1, false, block(":status 200")), H2.data(1, true, new byte[40_000])))
                .client(request(3, "/next"))
                .server(headers(3, true, block(":status 200"))));

        assertTrue(tracer.stats().http2().errors() >= 1, "the 40000-byte frame over the default 16384");
        assertEquals(1, tracer.stats().http2().framingLost(), "the server's direction");
        assertTrue(exchanges.stream().anyMatch(x -> "/next".equals(x.request().target())));
    }

    @Test
    void aFrameUpToTheMaximumTheReceiverAnnouncedIsRead() {
        trace(Conversation.create().handshake()
                .client(cat(H2.PREFACE, H2.settings(0x5, 65536)))
                .server(H2.settings())
                .client(request(1, "/big"))
                .server(cat(headers(1, false, block(":status 200")), H2.data(1, true, new byte[40_000]))));

        assertEquals(40_000, exchanges.getFirst().response().bodySize());
        assertEquals(0, tracer.stats().http2().errors());
    }

    @Test
    void streamsOpenAtOnceBeyondTheBoundAreCountedNotTracked() {
        Conversation c = opened();
        ByteArrayOutputStream batch = new ByteArrayOutputStream();
        for (int id = 1; id < 2 * 3000; id += 2) batch.writeBytes(headers(id, false, block(":method POST", ":scheme http", ":path /")));
        c.client(batch.toByteArray());
        trace(c);

        assertEquals(Http2Connection.MAX_OPEN_STREAMS, exchanges.size());
        assertTrue(exchanges.stream().allMatch(x -> "capture_end".equals(x.http2().end())));
    }

    @Test
    void garbageAfterThePrefaceLosesTheFramingAndTheNextPlausibleSegmentResumesIt() {
        trace(opened()
                .client(request(1, "/ok"))
                .server(headers(1, true, block(":status 200")))
                .client(Conversation.bytes("this is not a frame at all, just text\r\n"))
                .client(request(3, "/resumed"))
                .server(headers(3, true, block(":status 200"))));

        assertEquals(List.of("/ok", "/resumed"), exchanges.stream().map(x -> String.valueOf(x.request().target())).sorted().toList(), () -> "records: " + exchanges);
        assertEquals(1, tracer.stats().http2().framingLost());
    }
}
