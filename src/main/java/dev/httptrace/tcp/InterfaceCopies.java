package dev.httptrace.tcp;

import dev.httptrace.capture.Segment;

/**
 * Tells a copy of a segment seen on another interface from a retransmission. Traced on all
 * interfaces, a host with bridges and containers sees each packet twice or more: on the veth and
 * again on the bridge. A copy has the direction, sequence and acknowledgement numbers, flags and
 * length of the segment seen last with them, on another interface, moments before. A real
 * retransmission comes at least a retransmission timeout later (Linux waits 10 ms or more even
 * for a tail-loss probe), and its own copies follow it: so only the latest matching segment counts,
 * and only within {@link #WINDOW_NANOS}.
 *
 * <p>Keeps the last {@link #SIZE} segments of one connection in flat arrays: no allocation per segment.
 */
final class InterfaceCopies {
    static final int SIZE = 8;
    /** Longer than a packet takes from one interface to the next, shorter than any retransmission timeout. */
    static final long WINDOW_NANOS = 5_000_000L;

    private final long[] seq = new long[SIZE];
    private final long[] ack = new long[SIZE];
    private final long[] time = new long[SIZE];
    private final int[] length = new int[SIZE];
    /** TCP flags, and the direction in bit 8. */
    private final int[] flagsAndSide = new int[SIZE];
    private final int[] ifindex = new int[SIZE];
    private int count;
    private int next;

    /** Whether {@code s}, sent by {@code side}, is a copy of a segment just seen on another interface; remembers it if not. */
    boolean isCopy(Segment s, int side) {
        int fs = s.flags() | side << 8;
        for (int k = 1; k <= count; k++) {
            int i = (next - k + SIZE) % SIZE;
            if (seq[i] == s.seq() && ack[i] == s.ack() && length[i] == s.payloadLength() && flagsAndSide[i] == fs) {
                if (ifindex[i] != s.ifindex() && s.timestampNanos() - time[i] <= WINDOW_NANOS) return true;
                break; // the latest one like it was on this interface, or long ago: a retransmission, if anything
            }
        }
        seq[next] = s.seq();
        ack[next] = s.ack();
        time[next] = s.timestampNanos();
        length[next] = s.payloadLength();
        flagsAndSide[next] = fs;
        ifindex[next] = s.ifindex();
        next = (next + 1) % SIZE;
        if (count < SIZE) count++;
        return false;
    }
}
