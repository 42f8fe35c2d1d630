package dev.httptrace.tcp;

import dev.httptrace.capture.Segment;
import dev.httptrace.testing.Conversation;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The flow table: both directions of a connection in one place, bounded, closed and expired. */
class TcpTrackerTest {

    /** Remembers each connection's two streams and how it closed. */
    private static final class Recorder implements ConnectionListener {
        final List<Connection> connections = new ArrayList<>();
        final List<RecordingConsumer[]> streams = new ArrayList<>();
        final List<String> closes = new ArrayList<>();

        @Override
        public ConnectionHandler opened(Connection connection) {
            connections.add(connection);
            RecordingConsumer[] pair = {new RecordingConsumer(), new RecordingConsumer()};
            streams.add(pair);
            return new ConnectionHandler() {
                @Override
                public StreamConsumer stream(int side) {
                    return pair[side];
                }

                @Override
                public void onClose(EndReason reason, long timestampNanos) {
                    closes.add(reason.name());
                }
            };
        }
    }

    private final Recorder recorder = new Recorder();
    private final TcpTracker tracker = new TcpTracker(4, 1024, recorder);

    private void feed(List<Segment> segments) {
        for (Segment s : segments) tracker.accept(s);
    }

    @Test
    @DisplayName("both directions of a connection map to one connection with two streams")
    void bothDirections() {
        feed(Conversation.create().handshake().client("ping").server("pong").segments());
        assertEquals(1, recorder.connections.size());
        Connection c = recorder.connections.getFirst();
        assertEquals(0, c.initiator(), "the SYN came from side 0");
        assertEquals(40000, c.port(0));
        assertEquals("ping", recorder.streams.getFirst()[0].text());
        assertEquals("pong", recorder.streams.getFirst()[1].text());
        assertEquals(1, tracker.activeFlows());
    }

    @Test
    @DisplayName("a FIN each way ends the connection and frees its slot")
    void finBothWays() {
        feed(Conversation.create().handshake().client("a").clientFin().server("b").serverFin().segments());
        assertEquals(List.of("FIN"), recorder.closes);
        assertEquals(0, tracker.activeFlows());
    }

    @Test
    @DisplayName("a RST ends both directions at once")
    void rst() {
        feed(Conversation.create().handshake().client("a").clientRst().segments());
        assertEquals(List.of("RST"), recorder.closes);
        assertEquals("end(RST)", recorder.streams.getFirst()[1].events.getLast());
        assertEquals(0, tracker.activeFlows());
    }

    @Test
    @DisplayName("the retransmissions of a connection are counted on it and in total")
    void retransmissionsCounted() {
        List<Segment> s = Conversation.create().handshake().client("a", "b").segments();
        feed(s);
        tracker.accept(s.get(2));
        assertEquals(1, recorder.connections.getFirst().retransmissions());
        assertEquals(1, tracker.counters().retransmittedSegments());
        assertEquals(5, tracker.counters().segments());
    }

    /** The same packet seen {@code afterNanos} later on interface {@code ifindex}. */
    private static Segment seenOn(Segment s, int ifindex, long afterNanos) {
        return new Segment(s.timestampNanos() + afterNanos, ifindex, s.srcAddr(), s.dstAddr(), s.srcPort(), s.dstPort(),
                s.seq(), s.ack(), s.flags(), s.payloadLength(), s.payload());
    }

    @Test
    @DisplayName("each packet seen again on a bridge moments later is a copy, not a retransmission")
    void copiesOnAnotherInterface() {
        List<Segment> s = Conversation.create().handshake().client("GET / HTTP/1.1\r\n\r\n")
                .server("HTTP/1.1 200 OK\r\n\r\n").clientFin().serverFin().segments();
        for (Segment x : s) {
            tracker.accept(x);                  // the veth
            tracker.accept(seenOn(x, 7, 20_000)); // the bridge, 20 µs later
        }
        assertEquals(0, tracker.counters().retransmittedSegments());
        // The last FIN closes the connection: its copy finds none and is ignored like any stray FIN.
        assertEquals(s.size() - 1, tracker.counters().interfaceCopies());
        assertEquals(0, recorder.connections.getFirst().retransmissions());
        assertEquals(1, recorder.connections.getFirst().ifindex(), "the interface the connection was first seen on");
        assertEquals("GET / HTTP/1.1\r\n\r\n", recorder.streams.getFirst()[0].text());
        assertEquals(List.of("FIN"), recorder.closes);
    }

    @Test
    @DisplayName("a real retransmission stays one, on one interface or on both")
    void retransmissionsAreNotCopies() {
        List<Segment> s = Conversation.create().handshake().client("a").segments();
        Segment data = s.get(2);
        feed(s);
        tracker.accept(seenOn(data, 7, 10_000));          // copy on the bridge
        tracker.accept(seenOn(data, 1, 200_000_000));     // retransmitted after the RTO on the veth...
        tracker.accept(seenOn(data, 7, 200_010_000));     // ...and its copy on the bridge
        tracker.accept(seenOn(data, 7, 900_000_000));     // again, seen only on the bridge, long after
        assertEquals(2, tracker.counters().retransmittedSegments());
        assertEquals(2, tracker.counters().interfaceCopies());
        assertEquals(2, recorder.connections.getFirst().retransmissions());
    }

    @Test
    @DisplayName("a different segment on another interface is no copy: sequence, acknowledgement, flags and length must match")
    void onlyExactCopies() {
        List<Segment> s = Conversation.create().handshake().client("ab").segments();
        Segment data = s.get(2);
        feed(s);
        tracker.accept(new Segment(data.timestampNanos() + 1000, 7, data.srcAddr(), data.dstAddr(), data.srcPort(),
                data.dstPort(), data.seq(), data.ack() + 1, data.flags(), 2, data.payload()));
        tracker.accept(new Segment(data.timestampNanos() + 2000, 7, data.srcAddr(), data.dstAddr(), data.srcPort(),
                data.dstPort(), data.seq(), data.ack(), data.flags(), 1, new byte[] {'a'}));
        assertEquals(0, tracker.counters().interfaceCopies());
        assertEquals(2, tracker.counters().retransmittedSegments());
    }

    @Test
    @DisplayName("a full table evicts the least recently active connection, and counts it")
    void lruEviction() {
        for (int i = 0; i < 5; i++) {
            feed(Conversation.between(new byte[] {10, 0, 0, 1}, 40000 + i, new byte[] {10, 0, 0, 2}, 80)
                    .client("x").segments());
            if (i == 3) { // another client
                feed(Conversation.between(new byte[] {10, 0, 0, 3}, 50000, new byte[] {10, 0, 0, 2}, 80)
                        .client("y").segments());
            }
        }
        assertEquals(4, tracker.activeFlows());
        assertEquals(2, tracker.counters().flowsEvicted());
        assertEquals(List.of("EVICTED", "EVICTED"), recorder.closes);
        assertEquals(40000, recorder.connections.get(0).port(0), "the oldest went first");
    }

    @Test
    @DisplayName("connections idle for the timeout are dropped by expire")
    void idleExpiry() {
        Conversation c = Conversation.create().handshake().client("a");
        feed(c.segments());
        long last = c.now() - Conversation.STEP;
        tracker.expire(last + 500, 1000, 100);
        assertEquals(1, tracker.activeFlows());
        tracker.expire(last + 1000, 1000, 100);
        assertEquals(0, tracker.activeFlows());
        assertEquals(List.of("IDLE"), recorder.closes);
        assertEquals(1, tracker.counters().flowsTimedOut());
    }

    @Test
    @DisplayName("a new SYN on the same addresses and ports replaces the old connection")
    void portReuse() {
        feed(Conversation.create(1000, 5000).handshake().client("old").segments());
        feed(Conversation.create(90000, 7000).handshake().client("new").segments());
        assertEquals(List.of("REPLACED"), recorder.closes);
        assertEquals(2, recorder.connections.size());
        assertEquals("new", recorder.streams.get(1)[0].text());
    }

    @Test
    @DisplayName("a stray FIN or RST of an unknown connection creates no flow")
    void strayFin() {
        List<Segment> s = Conversation.create().handshake().client("a").clientFin().segments();
        tracker.accept(s.getLast());
        assertEquals(0, tracker.activeFlows());
        assertTrue(recorder.connections.isEmpty());
    }

    @Test
    @DisplayName("finish ends every connection")
    void finish() {
        feed(Conversation.create().handshake().client("a").segments());
        tracker.finish();
        assertEquals(List.of("CAPTURE_END"), recorder.closes);
        assertEquals(0, tracker.activeFlows());
    }

    @Test
    @DisplayName("IPv6 endpoints key connections like IPv4 ones")
    void ipv6() {
        byte[] a = new byte[16];
        byte[] b = new byte[16];
        a[15] = 1;
        b[15] = 2;
        feed(Conversation.between(a, 40000, b, 80).handshake().client("ping").server("pong").segments());
        assertEquals(1, tracker.activeFlows());
        assertTrue(recorder.connections.getFirst().ipv6());
    }
}
