package dev.httptrace.testing;

import dev.httptrace.capture.Segment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Damage done on purpose to a captured conversation: the things networks and capture do. */
public final class Segments {
    private Segments() {}

    /** The segment at {@code index} never reached the capture. */
    public static List<Segment> drop(List<Segment> segments, int index) {
        List<Segment> out = new ArrayList<>(segments);
        out.remove(index);
        return out;
    }

    /** Segments {@code i} and {@code j} arrive in each other's place (timestamps travel with them). */
    public static List<Segment> swap(List<Segment> segments, int i, int j) {
        List<Segment> out = new ArrayList<>(segments);
        Segment a = out.get(i);
        out.set(i, out.get(j));
        out.set(j, a);
        return out;
    }

    /** The segment at {@code index} is seen again right after (a retransmission). */
    public static List<Segment> duplicate(List<Segment> segments, int index) {
        List<Segment> out = new ArrayList<>(segments);
        Segment s = out.get(index);
        out.add(index + 1, withTimestamp(s, s.timestampNanos() + 1));
        return out;
    }

    /** The snap length kept only the first {@code captured} payload bytes of the segment at {@code index}. */
    public static List<Segment> truncate(List<Segment> segments, int index, int captured) {
        List<Segment> out = new ArrayList<>(segments);
        Segment s = out.get(index);
        out.set(index, new Segment(s.timestampNanos(), s.ifindex(), s.srcAddr(), s.dstAddr(), s.srcPort(),
                s.dstPort(), s.seq(), s.ack(), s.flags(), s.payloadLength(), Arrays.copyOf(s.payload(), captured)));
        return out;
    }

    /** Every payload segment cut again at random points into pieces of 1 to {@code maxPiece} bytes. */
    public static List<Segment> resegment(List<Segment> segments, Random random, int maxPiece) {
        List<Segment> out = new ArrayList<>();
        for (Segment s : segments) {
            if (s.payloadLength() == 0) {
                out.add(s);
                continue;
            }
            int at = 0;
            while (at < s.payloadLength()) {
                int n = Math.min(s.payloadLength() - at, 1 + random.nextInt(maxPiece));
                boolean last = at + n == s.payloadLength();
                int flags = last ? s.flags() : s.flags() & ~Segment.FIN;
                out.add(new Segment(s.timestampNanos(), s.ifindex(), s.srcAddr(), s.dstAddr(), s.srcPort(), s.dstPort(),
                        (s.seq() + at) & 0xFFFF_FFFFL, s.ack(), flags, n, Arrays.copyOfRange(s.payload(), at, at + n)));
                at += n;
            }
        }
        return out;
    }

    /**
     * Moves segments around within a window: each segment may be overtaken by up to
     * {@code window - 1} later ones, as when records from several CPUs interleave.
     */
    public static List<Segment> shuffleWithin(List<Segment> segments, Random random, int window) {
        List<Segment> out = new ArrayList<>(segments);
        for (int i = 0; i + 1 < out.size(); i++) {
            int j = i + random.nextInt(Math.min(window, out.size() - i));
            Segment a = out.get(i);
            out.set(i, out.get(j));
            out.set(j, a);
        }
        return out;
    }

    public static Segment withTimestamp(Segment s, long ts) {
        return new Segment(ts, s.ifindex(), s.srcAddr(), s.dstAddr(), s.srcPort(), s.dstPort(), s.seq(), s.ack(),
                s.flags(), s.payloadLength(), s.payload());
    }
}
