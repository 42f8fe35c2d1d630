package dev.httptrace.capture;

import java.util.Set;

/**
 * What the socket filter lets through, applied in user space to segments from capture
 * files: TCP segments that carry payload or open/close/reset a connection (pure ACKs are
 * dropped), and, when ports are given, only those whose source or destination port is one
 * of them.
 */
public final class SegmentFilter {

    private final boolean allPorts;
    private final boolean[] ports = new boolean[65_536];

    /**
     * @param ports TCP ports to keep (0-65535); empty keeps all
     * @throws IllegalArgumentException for a port outside 0-65535
     */
    public SegmentFilter(Set<Integer> ports) {
        this.allPorts = ports.isEmpty();
        for (int p : ports) {
            if (p < 0 || p > 65_535) {
                throw new IllegalArgumentException("not a TCP port: " + p);
            }
            this.ports[p] = true;
        }
    }

    public boolean accepts(Segment s) {
        if (s.payloadLength() <= 0 && (s.flags() & (Segment.SYN | Segment.FIN | Segment.RST)) == 0) {
            return false;
        }
        return allPorts || ports[s.srcPort()] || ports[s.dstPort()];
    }
}
