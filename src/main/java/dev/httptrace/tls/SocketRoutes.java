package dev.httptrace.tls;

/**
 * Which network interface a TLS stream's socket sends on, by its addresses: what the TLS
 * source knows of the interface, which the uprobes do not see. Used to give TLS records their
 * interface and to apply {@code --iface} to them.
 */
@FunctionalInterface
public interface SocketRoutes {

    /**
     * @param localAddress  the traced process's end (4 or 16 bytes)
     * @param remoteAddress the other end
     * @return the interface index, or 0 when it cannot be told (e.g. a socket in another network namespace)
     */
    int ifindex(byte[] localAddress, byte[] remoteAddress);
}
