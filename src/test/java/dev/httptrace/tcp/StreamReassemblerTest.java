package dev.httptrace.tcp;

import dev.httptrace.capture.Segment;
import dev.httptrace.testing.Conversation;
import dev.httptrace.testing.Segments;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One direction of a connection put back in order; the client's segments of scripted conversations. */
class StreamReassemblerTest {
    private RecordingConsumer out;
    private TcpCounters counters;
    private StreamReassembler stream;

    @BeforeEach
    void setUp() {
        out = new RecordingConsumer();
        counters = new TcpCounters();
        stream = new StreamReassembler(out, counters, 1024);
    }

    private static List<Segment> clientSays(String... pieces) {
        return Conversation.create().handshake().client(pieces).clientFin().segments().stream()
                .filter(s -> s.srcPort() == 40000).toList();
    }

    private void feed(List<Segment> segments) {
        for (Segment s : segments) stream.accept(s);
    }

    @Test
    @DisplayName("a SYN sets the initial sequence number; bytes then FIN are delivered in order")
    void inOrder() {
        feed(clientSays("abc", "def"));
        assertEquals(List.of("start(1001)", "data(abc)", "data(def)", "end(FIN)"), out.events);
    }

    @Test
    @DisplayName("without a SYN the first segment starts the stream, flagged as joined mid-way")
    void midStream() {
        feed(clientSays("abc", "def").subList(2, 4));
        assertEquals(List.of("start-mid(1004)", "data(def)", "end(FIN)"), out.events);
    }

    @Test
    @DisplayName("a retransmitted segment is skipped and counted")
    void retransmission() {
        List<Segment> s = clientSays("abc", "def");
        assertEquals(StreamReassembler.Outcome.NEW, stream.accept(s.get(0)));
        stream.accept(s.get(1));
        stream.accept(s.get(2));
        assertEquals(StreamReassembler.Outcome.RETRANSMITTED, stream.accept(s.get(1)));
        stream.accept(s.get(3));
        assertEquals("abcdef", out.text());
    }

    @Test
    @DisplayName("a segment overlapping bytes already delivered is trimmed to its new bytes")
    void partialOverlap() {
        List<Segment> s = clientSays("abc", "defgh");
        stream.accept(s.get(0));
        stream.accept(s.get(1));
        // A retransmission that re-segmented: "bcdefgh" from seq 1002.
        Segment again = new Segment(9, 1, s.get(1).srcAddr(), s.get(1).dstAddr(), 40000, 80,
                1002, 0, Segment.ACK, 7, Conversation.bytes("bcdefgh"));
        assertEquals(StreamReassembler.Outcome.RETRANSMITTED, stream.accept(again));
        assertEquals(List.of("start(1001)", "data(abc)", "data-cont(defgh)"), out.events);
    }

    @Test
    @DisplayName("segments ahead of a hole are held and delivered when the hole fills")
    void outOfOrder() {
        List<Segment> s = clientSays("ab", "cd", "ef");
        feed(Segments.swap(s, 1, 3));
        assertEquals(List.of("start(1001)", "data(ab)", "data(cd)", "data(ef)", "end(FIN)"), out.events);
    }

    @Test
    @DisplayName("a FIN that overtook the last data waits for it")
    void finOvertakesData() {
        List<Segment> s = clientSays("ab", "cd");
        feed(List.of(s.get(0), s.get(1), s.get(3), s.get(2)));
        assertEquals(List.of("start(1001)", "data(ab)", "data(cd)", "end(FIN)"), out.events);
    }

    @Test
    @DisplayName("a hole older than the reorder timeout is given up as a gap of the right length")
    void holeTimesOut() {
        List<Segment> s = clientSays("ab", "cde", "fg");
        feed(List.of(s.get(0), s.get(1), s.get(3)));
        stream.expire(s.get(3).timestampNanos() + 10, 100);
        assertTrue(stream.hasHole(), "not yet");
        stream.expire(s.get(3).timestampNanos() + 100, 100);
        assertFalse(stream.hasHole());
        assertEquals("ab#3#fg", out.text());
        assertEquals(1, counters.gaps());
        stream.accept(s.get(2)); // the lost segment after all: too late, already skipped
        assertEquals("ab#3#fg", out.text());
    }

    @Test
    @DisplayName("held bytes beyond the bound give up the oldest hole")
    void reorderBound() {
        stream = new StreamReassembler(out, counters, 200);
        String big = "x".repeat(100);
        List<Segment> s = clientSays("ab", "cd", big, big);
        feed(List.of(s.get(0), s.get(1), s.get(3)));
        assertTrue(stream.hasHole());
        stream.accept(s.get(4)); // 2 x (100 + overhead) > 200
        assertEquals("ab#2#" + big + big, out.text());
    }

    @Test
    @DisplayName("a snap-length-truncated segment delivers its prefix, then a gap for the rest")
    void truncated() {
        feed(Segments.truncate(clientSays("abcdef", "gh"), 1, 2));
        assertEquals(List.of("start(1001)", "data(ab)", "gap(4)", "data(gh)", "end(FIN)"), out.events);
    }

    @Test
    @DisplayName("abort delivers what is held after gaps for the holes, then ends")
    void abortFlushes() {
        List<Segment> s = clientSays("ab", "cd", "ef");
        feed(List.of(s.get(0), s.get(1), s.get(3)));
        stream.abort(EndReason.RST, 0);
        assertEquals(List.of("start(1001)", "data(ab)", "gap(2)", "data(ef)", "end(RST)"), out.events);
    }

    @Test
    @DisplayName("sequence numbers wrap around 2^32")
    void wraparound() {
        List<Segment> s = Conversation.create(0xFFFF_FFFDL, 7).handshake().client("abc", "def", "ghi").segments()
                .stream().filter(x -> x.srcPort() == 40000).toList();
        feed(Segments.swap(s, 2, 3));
        assertEquals("abcdefghi", out.text());
        assertEquals(List.of("start(4294967294)", "data(abc)", "data(def)", "data(ghi)"), out.events);
    }
}
