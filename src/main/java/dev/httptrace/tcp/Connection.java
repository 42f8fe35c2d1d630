package dev.httptrace.tcp;

import dev.httptrace.capture.Segment;

import java.util.Arrays;

/**
 * One TCP connection in the flow table: its two endpoints and a reassembler per direction.
 *
 * <p>The endpoints are called side 0 and side 1: side 0 is the source of the first segment
 * seen, whatever it was. Which side opened the connection is known only when a SYN was seen
 * ({@link #initiator()}); the layer above decides who is the client by what the streams carry.
 */
public final class Connection {
    final ConnectionKey key;
    private final int ifindex;
    private final boolean ipv6;
    private final byte[][] addresses;
    private final int[] ports;
    final StreamReassembler[] streams = new StreamReassembler[2];
    ConnectionHandler handler;
    private int initiator = -1;
    long lastSeenNanos;
    long retransmissions;
    final InterfaceCopies copies = new InterfaceCopies();
    boolean closed;
    boolean watched;
    private final TlsOrigin tls;

    Connection(ConnectionKey key, Segment first) {
        this.key = key;
        this.ifindex = first.ifindex();
        this.ipv6 = first.ipv6();
        this.addresses = new byte[][] {first.srcAddr().clone(), first.dstAddr().clone()};
        this.ports = new int[] {first.srcPort(), first.dstPort()};
        this.lastSeenNanos = first.timestampNanos();
        this.tls = null;
    }

    private Connection(int ifindex, byte[] address0, int port0, byte[] address1, int port1, long timestampNanos,
                       TlsOrigin tls) {
        this.key = null;
        this.ifindex = ifindex;
        this.ipv6 = address0.length == 16;
        this.addresses = new byte[][] {address0.clone(), address1.clone()};
        this.ports = new int[] {port0, port1};
        this.lastSeenNanos = timestampNanos;
        this.tls = tls;
    }

    /**
     * A connection whose byte streams come from a TLS library rather than from packets
     * (see dev.httptrace.tls). Side 0 is the traced process; addresses are empty arrays
     * and ports 0 when the socket is not known.
     */
    public static Connection ofTls(byte[] localAddress, int localPort, byte[] remoteAddress, int remotePort,
                                   long timestampNanos, TlsOrigin tls) {
        return ofTls(0, localAddress, localPort, remoteAddress, remotePort, timestampNanos, tls);
    }

    /** As {@link #ofTls(byte[], int, byte[], int, long, TlsOrigin)}, on the interface the socket's route uses (0: unknown). */
    public static Connection ofTls(int ifindex, byte[] localAddress, int localPort, byte[] remoteAddress, int remotePort,
                                   long timestampNanos, TlsOrigin tls) {
        return new Connection(ifindex, localAddress, localPort, remoteAddress, remotePort, timestampNanos, tls);
    }

    /** What the TLS source knows of this connection's ends; null for a connection seen in packets. */
    public TlsOrigin tls() { return tls; }

    /** The side (0 or 1) that sent {@code s}. */
    int sideOf(Segment s) {
        return s.srcPort() == ports[0] && Arrays.equals(s.srcAddr(), addresses[0])
                && (s.dstPort() == ports[1] && Arrays.equals(s.dstAddr(), addresses[1])) ? 0 : 1;
    }

    /** Notes who opened the connection: a SYN comes from the initiator, a SYN-ACK goes to it. */
    void noteSyn(int side, boolean ack) {
        initiator = ack ? 1 - side : side;
    }

    /**
     * Interface of the first segment seen (a copy of it seen on another interface later does not
     * change it); for a TLS connection, the interface of its socket's route, 0 when unknown.
     */
    public int ifindex() { return ifindex; }

    public boolean ipv6() { return ipv6; }

    /** Address of {@code side} (4 or 16 bytes; empty when a TLS connection's socket is unknown); do not modify. */
    public byte[] address(int side) { return addresses[side]; }

    public int port(int side) { return ports[side]; }

    /** The side that sent the SYN, or -1 when the handshake was not seen. */
    public int initiator() { return initiator; }

    /** Segments of this connection (either direction) that carried bytes already delivered. */
    public long retransmissions() { return retransmissions; }

    /** Capture time of the latest segment. */
    public long lastSeenNanos() { return lastSeenNanos; }
}
