package dev.httptrace.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The socket filter itself, run by the kernel on synthetic frames through
 * BPF_PROG_TEST_RUN: what it emits, byte for byte, and what it drops.
 */
class SocketFilterIT {
    private static final byte[] CLIENT4 = {10, 0, 0, 1};
    private static final byte[] SERVER4 = {10, 0, 0, 2};
    private static final byte[] CLIENT6 = ipv6("fd00::1");
    private static final byte[] SERVER6 = ipv6("fd00::2");
    private static final byte[] GET = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private NativeCapture capture;

    private NativeCapture load(int snaplen, List<Integer> ports) throws CaptureException {
        if (!"0".equals(uid())) {
            String why = "BPF_PROG_TEST_RUN needs root (run 'sudo make test')";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(why + ": CI=true, so this is a failure, not a skip");
            }
            Assumptions.abort(why);
        }
        capture = NativeCapture.open(new NativeCapture.Settings(snaplen, ports, 8));
        return capture;
    }

    @AfterEach
    void unload() {
        if (capture != null) {
            capture.close();
        }
    }

    @Test
    void emitsAnIpv4SegmentWithItsHeaderFieldsAndPayload() throws Exception {
        var out = load(8192, List.of()).testRun(ethernet(0x0800, ipv4(CLIENT4, SERVER4, tcp(40000, 8080, 1000, 77, ACK | PSH, GET))));
        assertEquals(1, out.size());
        Segment s = out.get(0);
        assertArrayEquals(CLIENT4, s.srcAddr());
        assertArrayEquals(SERVER4, s.dstAddr());
        assertEquals(40000, s.srcPort());
        assertEquals(8080, s.dstPort());
        assertEquals(1000, s.seq());
        assertEquals(77, s.ack());
        assertEquals(ACK | PSH, s.flags());
        assertEquals(GET.length, s.payloadLength());
        assertArrayEquals(GET, s.payload());
        assertTrue(Math.abs(s.timestampNanos() / 1_000_000 - System.currentTimeMillis()) < 60_000, "wall clock");
    }

    @Test
    void emitsAnIpv6SegmentAndSkipsExtensionHeaders() throws Exception {
        var plain = load(8192, List.of()).testRun(ethernet(0x86dd, ipv6(CLIENT6, SERVER6, 6, tcp(40000, 80, 0xfffffff0L, 1, ACK, GET))));
        assertEquals(1, plain.size());
        assertArrayEquals(CLIENT6, plain.get(0).srcAddr());
        assertArrayEquals(SERVER6, plain.get(0).dstAddr());
        assertEquals(0xfffffff0L, plain.get(0).seq());
        assertArrayEquals(GET, plain.get(0).payload());

        // Hop-by-hop options (8 bytes, next header TCP) in front of TCP.
        byte[] hopByHop = concat(new byte[] {6, 0, 1, 4, 0, 0, 0, 0}, tcp(40000, 80, 5, 1, ACK, GET));
        var withOptions = capture.testRun(ethernet(0x86dd, ipv6(CLIENT6, SERVER6, 0, hopByHop)));
        assertEquals(1, withOptions.size());
        assertArrayEquals(GET, withOptions.get(0).payload());
        assertEquals(5, withOptions.get(0).seq());
    }

    @Test
    void readsThroughVlanTags() throws Exception {
        byte[] inner = ipv4(CLIENT4, SERVER4, tcp(40000, 8080, 1, 1, ACK, GET));
        byte[] tagged = concat(new byte[] {0x00, 0x2a, 0x08, 0x00}, inner); // VLAN 42, then IPv4
        var out = load(8192, List.of()).testRun(ethernet(0x8100, tagged));
        assertEquals(1, out.size());
        assertArrayEquals(GET, out.get(0).payload());
        byte[] qinq = concat(new byte[] {0x00, 0x0a, (byte) 0x81, 0x00, 0x00, 0x2a, 0x08, 0x00}, inner);
        assertEquals(1, capture.testRun(ethernet(0x88a8, qinq)).size(), "802.1ad outer tag, 802.1Q inner");
    }

    @Test
    void dropsWhatUserSpaceWouldDropAnyway() throws Exception {
        load(8192, List.of());
        assertEquals(List.of(), capture.testRun(ethernet(0x0800, ipv4(CLIENT4, SERVER4, 17, udp()))), "UDP");
        assertEquals(List.of(), capture.testRun(ethernet(0x0806, new byte[28])), "ARP");
        assertEquals(List.of(), capture.testRun(ethernet(0x0800, ipv4(CLIENT4, SERVER4, tcp(1, 2, 3, 4, ACK, new byte[0])))), "pure ACK");
        byte[] fragment = ipv4(CLIENT4, SERVER4, tcp(40000, 8080, 1, 1, ACK, GET));
        fragment[6] = 0x00;
        fragment[7] = 0x10; // fragment offset 16 x 8 bytes: not the first fragment
        fixIpv4Checksum(fragment);
        assertEquals(List.of(), capture.testRun(ethernet(0x0800, fragment)), "non-first fragment");
        var stats = capture.stats();
        assertEquals(4, stats.packets(), stats.toString());
        assertEquals(0, stats.emitted(), stats.toString());
        assertEquals(1, stats.noPayload(), stats.toString());
    }

    @Test
    void keepsSynFinAndRstWithoutPayloadBecauseTheyStartAndEndFlows() throws Exception {
        load(8192, List.of());
        for (int flags : new int[] {SYN, SYN | ACK, FIN | ACK, RST}) {
            var out = capture.testRun(ethernet(0x0800, ipv4(CLIENT4, SERVER4, tcp(40000, 8080, 9, 0, flags, new byte[0]))));
            assertEquals(1, out.size(), "flags " + flags);
            assertEquals(flags, out.get(0).flags());
            assertEquals(0, out.get(0).payloadLength());
        }
    }

    @Test
    void filtersPortsInTheKernelAtEitherEnd() throws Exception {
        load(8192, List.of(8080, 9090));
        assertEquals(1, capture.testRun(ethernet(0x0800, ipv4(CLIENT4, SERVER4, tcp(40000, 8080, 1, 1, ACK, GET)))).size());
        assertEquals(1, capture.testRun(ethernet(0x0800, ipv4(SERVER4, CLIENT4, tcp(9090, 40000, 1, 1, ACK, GET)))).size());
        assertEquals(0, capture.testRun(ethernet(0x0800, ipv4(CLIENT4, SERVER4, tcp(40000, 80, 1, 1, ACK, GET)))).size());
        assertEquals(1, capture.stats().otherPorts());
    }

    @Test
    void copiesAtMostTheSnapLengthAndReportsTheWholeLength() throws Exception {
        byte[] big = new byte[3000];
        Arrays.fill(big, (byte) 'x');
        var out = load(100, List.of()).testRun(ethernet(0x0800, ipv4(CLIENT4, SERVER4, tcp(1, 2, 3, 4, ACK, big))));
        assertEquals(1, out.size());
        assertEquals(3000, out.get(0).payloadLength());
        assertEquals(100, out.get(0).payload().length);
        assertTrue(out.get(0).truncated());
    }

    @Test
    void ignoresEthernetPaddingAfterTheIpPacket() throws Exception {
        byte[] packet = ipv4(CLIENT4, SERVER4, tcp(40000, 8080, 1, 1, ACK, "GET".getBytes(StandardCharsets.US_ASCII)));
        var out = load(8192, List.of()).testRun(ethernet(0x0800, concat(packet, new byte[20])));
        assertEquals(1, out.size());
        assertEquals(3, out.get(0).payloadLength());
        assertArrayEquals("GET".getBytes(StandardCharsets.US_ASCII), out.get(0).payload());
    }

    // --- frames -------------------------------------------------------------------------

    static final int FIN = Segment.FIN, SYN = Segment.SYN, RST = Segment.RST, PSH = Segment.PSH, ACK = Segment.ACK;

    static byte[] ethernet(int etherType, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + payload.length);
        b.put(new byte[] {0, 0, 0, 0, 0, 0}); // destination: lo's address, so the kernel sees PACKET_HOST
        b.put(new byte[] {2, 0, 0, 0, 0, 1});
        b.putShort((short) etherType);
        b.put(payload);
        return b.array();
    }

    static byte[] ipv4(byte[] src, byte[] dst, byte[] tcp) {
        return ipv4(src, dst, 6, tcp);
    }

    static byte[] ipv4(byte[] src, byte[] dst, int protocol, byte[] l4) {
        ByteBuffer b = ByteBuffer.allocate(20 + l4.length);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length));
        b.putShort((short) 1).putShort((short) 0x4000); // id, don't fragment
        b.put((byte) 64).put((byte) protocol).putShort((short) 0);
        b.put(src).put(dst).put(l4);
        byte[] packet = b.array();
        fixIpv4Checksum(packet);
        return packet;
    }

    static void fixIpv4Checksum(byte[] packet) {
        packet[10] = 0;
        packet[11] = 0;
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += ((packet[i] & 0xff) << 8) | (packet[i + 1] & 0xff);
        }
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = ~(sum + (sum >>> 16)) & 0xffff;
        packet[10] = (byte) (sum >>> 8);
        packet[11] = (byte) sum;
    }

    static byte[] ipv6(byte[] src, byte[] dst, int nextHeader, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(40 + payload.length);
        b.putInt(0x60000000).putShort((short) payload.length).put((byte) nextHeader).put((byte) 64);
        b.put(src).put(dst).put(payload);
        return b.array();
    }

    static byte[] tcp(int srcPort, int dstPort, long seq, long ack, int flags, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + payload.length);
        b.putShort((short) srcPort).putShort((short) dstPort).putInt((int) seq).putInt((int) ack);
        b.put((byte) 0x50).put((byte) flags).putShort((short) 65535).putInt(0);
        b.put(payload);
        return b.array();
    }

    static byte[] udp() {
        return ByteBuffer.allocate(12).putShort((short) 53).putShort((short) 53).putShort((short) 12).putShort((short) 0)
                .putInt(0).array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] ipv6(String address) {
        try {
            return java.net.InetAddress.getByName(address).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static String uid() {
        try {
            return String.valueOf(java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid"));
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
