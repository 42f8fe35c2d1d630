package dev.httptrace.capture;

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
 * @param payload        the captured prefix of the payload; shorter than
 *                       {@code payloadLength} when the snap length cut it
 */
public record Segment(long timestampNanos, int ifindex, byte[] srcAddr, byte[] dstAddr,
                      int srcPort, int dstPort, long seq, long ack, int flags,
                      int payloadLength, byte[] payload) {

    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;

    public boolean ipv6() {
        return srcAddr.length == 16;
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** True when the snap length cut the payload: bytes after the captured prefix are unknown. */
    public boolean truncated() {
        return payload.length < payloadLength;
    }
}
