package dev.httptrace.capture;

import java.util.Set;

/**
 * What the socket filter lets through, applied in user space to segments from capture
 * files: TCP segments that carry payload or open/close/reset a connection (pure ACKs are
 * dropped), and, when ports or hosts are given, only those whose source or destination
 * port is one of them and whose source or destination address is in one of the hosts.
 */
public final class SegmentFilter {

    private final boolean allPorts;
    private final boolean[] ports = new boolean[65_536];
    private final HostFilter hosts;

    /**
     * @param ports TCP ports to keep (0-65535); empty keeps all
     * @throws IllegalArgumentException for a port outside 0-65535
     */
    public SegmentFilter(Set<Integer> ports) {
        this(ports, HostFilter.ANY);
    }

    /**
     * @param ports TCP ports to keep (0-65535); empty keeps all
     * @param hosts addresses and prefixes to keep (either end)
     * @throws IllegalArgumentException for a port outside 0-65535
     */
    public SegmentFilter(Set<Integer> ports, HostFilter hosts) {
        this.hosts = hosts;
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
        return (allPorts || ports[s.srcPort()] || ports[s.dstPort()]) && hosts.wants(s.srcAddr(), s.dstAddr());
    }
}
