package dev.httptrace.capture;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmentFilterTest {

    static Segment seg(int src, int dst, int flags, int payloadLength) {
        return new Segment(0, 0, new byte[4], new byte[4], src, dst, 0, 0, flags, payloadLength, new byte[0]);
    }

    @Test
    void pureAcksAreDroppedControlSegmentsAndPayloadKept() {
        SegmentFilter all = new SegmentFilter(Set.of());
        assertFalse(all.accepts(seg(1, 2, Segment.ACK, 0)));
        assertFalse(all.accepts(seg(1, 2, Segment.ACK | Segment.PSH, 0)));
        assertTrue(all.accepts(seg(1, 2, Segment.SYN, 0)));
        assertTrue(all.accepts(seg(1, 2, Segment.FIN | Segment.ACK, 0)));
        assertTrue(all.accepts(seg(1, 2, Segment.RST, 0)));
        assertTrue(all.accepts(seg(1, 2, Segment.ACK, 1)));
        // Payload cut entirely by the snap length still counts as payload.
        assertTrue(all.accepts(seg(1, 2, Segment.ACK, 1400)));
    }

    @Test
    void portsMatchEitherSide() {
        SegmentFilter f = new SegmentFilter(Set.of(80, 8080, 65535, 0));
        assertTrue(f.accepts(seg(40000, 80, Segment.ACK, 10)));
        assertTrue(f.accepts(seg(8080, 40000, Segment.ACK, 10)));
        assertTrue(f.accepts(seg(65535, 1, Segment.SYN, 0)));
        assertTrue(f.accepts(seg(0, 1, Segment.SYN, 0)));
        assertFalse(f.accepts(seg(40000, 443, Segment.ACK, 10)));
        assertFalse(f.accepts(seg(40000, 80, Segment.ACK, 0)));
    }

    @Test
    void badPortsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new SegmentFilter(Set.of(65536)));
        assertThrows(IllegalArgumentException.class, () -> new SegmentFilter(Set.of(-1)));
    }
}
