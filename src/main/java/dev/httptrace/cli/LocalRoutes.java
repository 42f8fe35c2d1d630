package dev.httptrace.cli;

import dev.httptrace.tls.SocketRoutes;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;

/**
 * The interface a TLS socket's packets use, told from this host's addresses as Linux routes
 * them: a connection between two of this host's addresses (127.0.0.1, ::1, or its own
 * 10.0.0.5 to 10.0.0.5) goes over the loopback interface; any other one leaves by the
 * interface that holds its local address. 0 when the local address is none of this host's
 * (a socket in another network namespace, a container's): then --iface leaves the stream out.
 * Policy routing that sends a source address out of another interface is not followed. The
 * address list is read again, at most once a second, when an address is not in it.
 */
final class LocalRoutes implements SocketRoutes {

    private static final long REFRESH_NANOS = 1_000_000_000L;

    private Map<InetAddress, Integer> byAddress = Map.of();
    private int loopback;
    private long readAt;
    private boolean read;

    @Override
    public int ifindex(byte[] localAddress, byte[] remoteAddress) {
        InetAddress local = address(localAddress), remote = address(remoteAddress);
        if (local == null || remote == null) {
            return 0;
        }
        Integer at = lookup(local);
        if (at == null && !local.isLoopbackAddress()) {
            return 0;
        }
        if (remote.isLoopbackAddress() || local.isLoopbackAddress() || lookup(remote) != null) {
            return loopback;
        }
        return at;
    }

    private Integer lookup(InetAddress a) {
        Integer at = byAddress.get(a);
        if (at == null && (!read || System.nanoTime() - readAt >= REFRESH_NANOS)) {
            refresh();
            at = byAddress.get(a);
        }
        return at;
    }

    private void refresh() {
        read = true;
        readAt = System.nanoTime();
        Map<InetAddress, Integer> m = new HashMap<>();
        try {
            NetworkInterface.networkInterfaces().forEach(nif -> {
                try {
                    if (nif.isLoopback()) {
                        loopback = nif.getIndex();
                    }
                } catch (SocketException e) {
                    // the interface went away: skip it
                }
                nif.inetAddresses().forEach(a -> m.putIfAbsent(a, nif.getIndex()));
            });
        } catch (SocketException e) {
            return; // keep what was known
        }
        byAddress = m;
    }

    /** An address of 4 or 16 bytes (an IPv4-mapped IPv6 address as IPv4), null when empty. */
    private static InetAddress address(byte[] bytes) {
        if (bytes.length != 4 && bytes.length != 16) {
            return null;
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
