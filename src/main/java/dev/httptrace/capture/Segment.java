package dev.httptrace.capture;

import java.util.Arrays;

/**
 * One captured TCP segment, as the socket filter (or a capture file) saw it.
 *
 * <p>This is the only thing the rest of the pipeline knows about packets. It is built by
 * {@link NativeCapture} from perf-buffer records, by the pcap reader from capture files,
 * and by tests by hand.
 *
 * @param timestampNanos wall-clock time the packet was seen, nanoseconds since the epoch
 * @param ifindex        interface index the packet crossed (0 when unknown, e.g. offline)
 * @param srcAddr        source IP address, 4 bytes (IPv4) or 16 bytes (IPv6)
 * @param dstAddr        destination IP address, same length as {@code srcAddr}
 * @param srcPort        source TCP port
 * @param dstPort        destination TCP port
 * @param seq            TCP sequence number, unsigned 32-bit in a long
 * @param ack            TCP acknowledgement number, unsigned 32-bit in a long
 * @param flags          TCP flags byte ({@link #FIN}, {@link #SYN}, ...)
 * @param payloadLength  TCP payload length on the wire
 * @param payload        holds the captured prefix of the payload at {@code payloadOffset};
 *                       live, it is the whole batch the segment came in (shared, reused after
 *                       the segment is handed on: copy what must be kept)
 * @param payloadOffset  where the captured bytes start in {@code payload}
 * @param capturedLength how many bytes were captured; fewer than {@code payloadLength} when
 *                       the snap length cut the payload
 */
public record Segment(long timestampNanos, int ifindex, byte[] srcAddr, byte[] dstAddr,
                      int srcPort, int dstPort, long seq, long ack, int flags,
                      int payloadLength, byte[] payload, int payloadOffset, int capturedLength) {

    public Segment {
        if (payloadOffset < 0 || capturedLength < 0 || payloadOffset + capturedLength > payload.length) {
            throw new IllegalArgumentException("captured bytes outside the payload array");
        }
    }

    /** A segment whose captured bytes are the whole of {@code payload}. */
    public Segment(long timestampNanos, int ifindex, byte[] srcAddr, byte[] dstAddr, int srcPort, int dstPort,
                   long seq, long ack, int flags, int payloadLength, byte[] payload) {
        this(timestampNanos, ifindex, srcAddr, dstAddr, srcPort, dstPort, seq, ack, flags, payloadLength,
                payload, 0, payload.length);
    }

    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;

    /** This segment with a payload array of its own: to keep it after the batch it came in. */
    public Segment withOwnPayload() {
        byte[] own = Arrays.copyOfRange(payload, payloadOffset, payloadOffset + capturedLength);
        return new Segment(timestampNanos, ifindex, srcAddr, dstAddr, srcPort, dstPort, seq, ack, flags,
                payloadLength, own);
    }

    public boolean ipv6() {
        return srcAddr.length == 16;
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** True when the snap length cut the payload: bytes after the captured prefix are unknown. */
    public boolean truncated() {
        return capturedLength < payloadLength;
    }
}
