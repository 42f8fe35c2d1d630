package dev.httptrace.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** --host as applied to capture files (the kernel applies the same prefixes live: SocketFilterIT). */
class HostFilterTest {

    static byte[] ip(String literal) {
        return InetAddress.ofLiteral(literal).getAddress();
    }

    static Segment seg(String src, String dst) {
        return new Segment(0, 0, ip(src), ip(dst), 40000, 80, 0, 0, Segment.ACK, 1, new byte[1]);
    }

    @Test
    void anAddressMatchesEitherEnd() {
        SegmentFilter f = new SegmentFilter(Set.of(), HostFilter.parse(List.of("10.0.0.5")));
        assertTrue(f.accepts(seg("10.0.0.5", "10.0.0.9")));
        assertTrue(f.accepts(seg("10.0.0.9", "10.0.0.5")));
        assertFalse(f.accepts(seg("10.0.0.9", "10.0.0.6")));
    }

    @Test
    void prefixesOfBothFamiliesAndHostBitsCleared() {
        HostFilter f = HostFilter.parse(List.of("192.168.1.77/20", "fd00:1:2::/48", "[::1]"));
        assertTrue(f.wants(ip("192.168.15.1"), ip("8.8.8.8")));
        assertFalse(f.wants(ip("192.168.16.1"), ip("8.8.8.8")));
        assertTrue(f.wants(ip("8.8.8.8"), ip("fd00:1:2:ffff::1")));
        assertFalse(f.wants(ip("fd00:1:3::1"), ip("fd00:1:4::1")));
        assertTrue(f.wants(ip("::1"), ip("::1")));
        assertEquals(20, f.prefixes().get(0).bits());
        assertArrayEquals(ip("192.168.0.0"), f.prefixes().get(0).address());
    }

    @Test
    void zeroBitsMatchEveryAddressOfThatFamilyOnly() {
        HostFilter f = HostFilter.parse(List.of("0.0.0.0/0"));
        assertTrue(f.wants(ip("1.2.3.4"), ip("5.6.7.8")));
        assertFalse(f.wants(ip("::1"), ip("fd00::1")));
    }

    @Test
    void noHostsMeansEveryHostAndPortsStillApply() {
        SegmentFilter f = new SegmentFilter(Set.of(80), HostFilter.parse(List.of()));
        assertTrue(f.accepts(seg("1.1.1.1", "2.2.2.2")));
        SegmentFilter both = new SegmentFilter(Set.of(443), HostFilter.parse(List.of("1.1.1.1")));
        assertFalse(both.accepts(seg("1.1.1.1", "2.2.2.2")), "host matches, port does not");
    }

    @Test
    void noHostsIsTheOneAnyFilterThatTlsChecksFor() {
        // --tls keeps streams whose socket is unknown (memory BIOs) only when no --host/--port is given.
        assertTrue(HostFilter.parse(List.of()) == HostFilter.ANY);
    }

    @Test
    void badHostsSayWhyInOneLine() {
        assertEquals("--host: 'example.com' is not an IP address or CIDR prefix (e.g. 10.0.0.5, 10.0.0.0/8, ::1, fd00::/64)",
                assertThrows(IllegalArgumentException.class, () -> HostFilter.parse(List.of("example.com"))).getMessage());
        assertEquals("--host: '10.0.0.0/33' has a prefix length that is not 0 to 32",
                assertThrows(IllegalArgumentException.class, () -> HostFilter.parse(List.of("10.0.0.0/33"))).getMessage());
        assertThrows(IllegalArgumentException.class, () -> HostFilter.parse(List.of("::/129")));
        assertThrows(IllegalArgumentException.class, () -> HostFilter.parse(List.of("10.0.0.0/")));
        assertThrows(IllegalArgumentException.class, () -> HostFilter.parse(List.of("10.0.0.0/-1")));
        assertThrows(IllegalArgumentException.class, () -> HostFilter.parse(List.of("")));
        assertEquals("at most 64 hosts or prefixes",
                assertThrows(IllegalArgumentException.class, () -> HostFilter.parse(prefixes(65))).getMessage());
        assertEquals(64, HostFilter.parse(prefixes(64)).prefixes().size());
    }

    private static List<String> prefixes(int n) {
        return java.util.stream.IntStream.range(0, n).mapToObj(i -> "10.0." + i + ".0/24").toList();
    }
}
