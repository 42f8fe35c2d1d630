package dev.httptrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.NetworkInterface;
import org.junit.jupiter.api.Test;

/** --tls -i: which interface a TLS socket's packets use. */
class LocalRoutesTest {

    static final byte[] LOCALHOST = {127, 0, 0, 1};

    @Test
    void aConnectionBetweenThisHostsAddressesGoesOverLoopback() throws Exception {
        int lo = NetworkInterface.networkInterfaces().filter(n -> {
            try {
                return n.isLoopback();
            } catch (java.net.SocketException e) {
                return false;
            }
        }).findFirst().orElseThrow().getIndex();
        LocalRoutes routes = new LocalRoutes();
        assertEquals(lo, routes.ifindex(LOCALHOST, LOCALHOST));
        assertEquals(lo, routes.ifindex(InetAddress.getByName("::1").getAddress(), InetAddress.getByName("::1").getAddress()));
        // This host's own non-loopback address to itself: Linux sends it over lo too.
        NetworkInterface.networkInterfaces().flatMap(NetworkInterface::inetAddresses)
                .filter(a -> !a.isLoopbackAddress()).findFirst()
                .ifPresent(a -> assertEquals(lo, routes.ifindex(a.getAddress(), a.getAddress()), a.toString()));
    }

    @Test
    void aRemotePeerLeavesByTheInterfaceHoldingTheLocalAddress() throws Exception {
        LocalRoutes routes = new LocalRoutes();
        byte[] remote = {(byte) 192, 0, 2, 1}; // TEST-NET-1: never this host's
        for (NetworkInterface nif : NetworkInterface.networkInterfaces().toList()) {
            for (InetAddress a : nif.inetAddresses().toList()) {
                if (a.getAddress().length == 4 && !a.isLoopbackAddress()) {
                    assertEquals(nif.getIndex(), routes.ifindex(a.getAddress(), remote), a.toString());
                }
            }
        }
        assertEquals(0, routes.ifindex(new byte[] {(byte) 198, 51, 100, 7}, remote), "not this host's address: unknown");
        assertEquals(0, routes.ifindex(new byte[0], remote), "socket unknown");
    }
}
