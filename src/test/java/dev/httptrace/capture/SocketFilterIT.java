package dev.httptrace.capture;

import static dev.httptrace.capture.Frames.ascii;
import static dev.httptrace.capture.Frames.concat;
import static dev.httptrace.capture.Frames.eth;
import static dev.httptrace.capture.Frames.ext;
import static dev.httptrace.capture.Frames.ip;
import static dev.httptrace.capture.Frames.ipv4;
import static dev.httptrace.capture.Frames.ipv6;
import static dev.httptrace.capture.Frames.tcp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.httptrace.live.Live;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The socket filter itself, run by the kernel on synthetic frames through
 * BPF_PROG_TEST_RUN: what it emits, field for field, and what it drops.
 */
class SocketFilterIT {
    private static final int FIN = Segment.FIN, SYN = Segment.SYN, RST = Segment.RST, PSH = Segment.PSH,
            ACK = Segment.ACK;
    private static final int IPV4 = 0x0800, IPV6 = 0x86dd, ARP = 0x0806, DOT1Q = 0x8100, DOT1AD = 0x88a8;
    private static final byte[] CLIENT4 = ip("10.0.0.1");
    private static final byte[] SERVER4 = ip("10.0.0.2");
    private static final byte[] CLIENT6 = ip("fd00::1");
    private static final byte[] SERVER6 = ip("fd00::2");
    private static final byte[] GET = ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

    private NativeCapture capture;

    private NativeCapture load(int snaplen, List<Integer> ports) throws CaptureException {
        Live.requireRoot();
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
        var out = load(8192, List.of()).testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40000, 8080, 1000, 77, ACK | PSH, GET))));
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
        assertTrue(Math.abs(s.timestampNanos() / 1_000_000 - System.currentTimeMillis()) < 60_000,
                "kernel time converted to wall-clock time");
    }

    @Test
    void emitsAnIpv6SegmentAndSkipsExtensionHeaders() throws Exception {
        var plain = load(8192, List.of()).testRun(eth(IPV6, ipv6(CLIENT6, SERVER6, 6, new byte[0],
                tcp(40000, 80, 0xfffffff0L, 1, ACK, GET))));
        assertEquals(1, plain.size());
        assertArrayEquals(CLIENT6, plain.get(0).srcAddr());
        assertArrayEquals(SERVER6, plain.get(0).dstAddr());
        assertEquals(0xfffffff0L, plain.get(0).seq(), "sequence numbers are unsigned");
        assertArrayEquals(GET, plain.get(0).payload());

        // Hop-by-hop (0) then destination options (60) in front of TCP.
        byte[] extensions = concat(ext(60, 0), ext(6, 1));
        var withOptions = capture.testRun(eth(IPV6, ipv6(CLIENT6, SERVER6, 0, extensions,
                tcp(40000, 80, 5, 1, ACK, GET))));
        assertEquals(1, withOptions.size());
        assertEquals(5, withOptions.get(0).seq());
        assertArrayEquals(GET, withOptions.get(0).payload());
    }

    @Test
    void readsThroughVlanTagsInFrontOfTheNetworkHeader() throws Exception {
        byte[] packet = ipv4(CLIENT4, SERVER4, 6, 0, 0x4000, tcp(40000, 8080, 1, 1, ACK, GET));
        var tagged = load(8192, List.of()).testRun(eth(IPV4, packet, DOT1Q));
        assertEquals(1, tagged.size(), "802.1Q");
        assertArrayEquals(GET, tagged.get(0).payload());
        var stacked = capture.testRun(eth(IPV4, packet, DOT1AD, DOT1Q));
        assertEquals(1, stacked.size(), "802.1ad outer tag, 802.1Q inner");
        assertArrayEquals(GET, stacked.get(0).payload());
    }

    @Test
    void dropsWhatUserSpaceWouldDropAnyway() throws Exception {
        load(8192, List.of());
        byte[] udp = {0, 53, 0, 53, 0, 12, 0, 0, 0, 0, 0, 0};
        assertEquals(List.of(), capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 17, 0, 0x4000, udp))), "UDP");
        assertEquals(List.of(), capture.testRun(eth(ARP, new byte[28])), "ARP");
        assertEquals(List.of(), capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(1, 2, 3, 4, ACK, new byte[0])))), "pure ACK");
        assertEquals(List.of(), capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x0010,
                tcp(40000, 8080, 1, 1, ACK, GET)))), "a fragment other than the first");
        var stats = capture.stats();
        assertEquals(4, stats.packets(), stats.toString());
        assertEquals(0, stats.emitted(), stats.toString());
        assertEquals(1, stats.noPayload(), stats.toString());
    }

    @Test
    void keepsSynFinAndRstWithoutPayloadBecauseTheyStartAndEndFlows() throws Exception {
        load(8192, List.of());
        for (int flags : new int[] {SYN, SYN | ACK, FIN | ACK, RST}) {
            var out = capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                    tcp(40000, 8080, 9, 0, flags, new byte[0]))));
            assertEquals(1, out.size(), "flags " + flags);
            assertEquals(flags, out.get(0).flags());
            assertEquals(0, out.get(0).payloadLength());
        }
    }

    @Test
    void filtersPortsInTheKernelAtEitherEnd() throws Exception {
        load(8192, List.of(8080, 9090));
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40000, 8080, 1, 1, ACK, GET)))).size(), "destination port asked for");
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(SERVER4, CLIENT4, 6, 0, 0x4000,
                tcp(9090, 40000, 1, 1, ACK, GET)))).size(), "source port asked for");
        assertEquals(0, capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40000, 80, 1, 1, ACK, GET)))).size(), "neither");
        assertEquals(1, capture.stats().otherPorts());
    }

    @Test
    void filtersHostsInTheKernelAtEitherEndByAddressOrPrefix() throws Exception {
        load(8192, List.of()).filterHosts(HostFilter.parse(List.of("10.0.0.2", "192.168.0.0/16", "fd00:1::/32")));
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40000, 8080, 1, 1, ACK, GET)))).size(), "destination address asked for");
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(SERVER4, CLIENT4, 6, 0, 0x4000,
                tcp(8080, 40000, 1, 1, ACK, GET)))).size(), "source address asked for");
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(ip("192.168.77.9"), CLIENT4, 6, 0, 0x4000,
                tcp(8080, 40000, 1, 1, ACK, GET)))).size(), "inside an IPv4 prefix");
        assertEquals(0, capture.testRun(eth(IPV4, ipv4(CLIENT4, ip("10.0.0.3"), 6, 0, 0x4000,
                tcp(40000, 8080, 1, 1, ACK, GET)))).size(), "neither address");
        assertEquals(0, capture.testRun(eth(IPV4, ipv4(ip("192.169.0.1"), CLIENT4, 6, 0, 0x4000,
                tcp(40000, 8080, 1, 1, ACK, GET)))).size(), "just outside the IPv4 prefix");
        assertEquals(1, capture.testRun(eth(IPV6, ipv6(ip("fd00:1:ffff::9"), CLIENT6, 6, new byte[0],
                tcp(40000, 80, 1, 1, ACK, GET)))).size(), "inside an IPv6 prefix");
        assertEquals(0, capture.testRun(eth(IPV6, ipv6(CLIENT6, SERVER6, 6, new byte[0],
                tcp(40000, 80, 1, 1, ACK, GET)))).size(), "IPv6 outside every prefix");
        // An IPv6 address whose first bytes equal an IPv4 prefix asked for is another family.
        assertEquals(0, capture.testRun(eth(IPV6, ipv6(ip("c0a8::1"), CLIENT6, 6, new byte[0],
                tcp(40000, 80, 1, 1, ACK, GET)))).size(), "the family is part of the match");
        assertEquals(4, capture.stats().otherPorts());
    }

    @Test
    void hostAndPortFiltersMustBothHold() throws Exception {
        load(8192, List.of(8080)).filterHosts(HostFilter.parse(List.of("::1", "127.0.0.1")));
        byte[] lo4 = ip("127.0.0.1");
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(lo4, lo4, 6, 0, 0x4000,
                tcp(40000, 8080, 1, 1, ACK, GET)))).size(), "host and port");
        assertEquals(0, capture.testRun(eth(IPV4, ipv4(lo4, lo4, 6, 0, 0x4000,
                tcp(40000, 9090, 1, 1, ACK, GET)))).size(), "host, other port");
        assertEquals(0, capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40000, 8080, 1, 1, ACK, GET)))).size(), "port, other host");
        assertEquals(1, capture.testRun(eth(IPV6, ipv6(ip("::1"), ip("::1"), 6, new byte[0],
                tcp(8080, 40000, 1, 1, ACK, GET)))).size(), "IPv6 host and port");
    }

    @Test
    void copiesAtMostTheSnapLengthAndReportsTheWholeLength() throws Exception {
        byte[] big = new byte[3000];
        Arrays.fill(big, (byte) 'x');
        var out = load(100, List.of()).testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(1, 2, 3, 4, ACK, big))));
        assertEquals(1, out.size());
        assertEquals(3000, out.get(0).payloadLength());
        assertEquals(100, out.get(0).payload().length);
        assertTrue(out.get(0).truncated());
    }

    @Test
    void ignoresEthernetPaddingAfterTheIpPacket() throws Exception {
        // 20 + 20 + 3 bytes of IP: eth() pads the frame to the 60-byte Ethernet minimum.
        var out = load(8192, List.of()).testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40000, 8080, 1, 1, ACK, ascii("GET")))));
        assertEquals(1, out.size());
        assertEquals(3, out.get(0).payloadLength());
        assertArrayEquals(ascii("GET"), out.get(0).payload());
    }

    /** A server-to-client segment (10.0.0.2:8080 to 10.0.0.1:clientPort); test frames stay under a page. */
    private List<Segment> fromServer(int clientPort, long seq, int flags, byte[] payload) throws Exception {
        return capture.testRun(eth(IPV4, ipv4(SERVER4, CLIENT4, 6, 0, 0x4000,
                tcp(8080, clientPort, seq, 1, flags, payload))));
    }

    private static byte[] body(int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) 'x');
        return b;
    }

    @Test
    void segmentsWhollyInsideAResponseBodyOfKnownLengthCarryNoPayload() throws Exception {
        load(8192, List.of());
        byte[] head = ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCONTENT-LENGTH:  8000\r\n\r\n");
        byte[] first = concat(head, body(2200));
        long seq = 5000;
        var s1 = fromServer(40101, seq, ACK | PSH, first);
        assertEquals(first.length, s1.get(0).capturedLength(), "the segment with the head is copied as always");
        var s2 = fromServer(40101, seq + first.length, ACK, body(3000));
        assertEquals(3000, s2.get(0).payloadLength());
        assertEquals(0, s2.get(0).capturedLength(), "body only: the header says where and how long");
        long rest = head.length + 8000 - first.length - 3000;
        byte[] last = concat(body((int) rest), ascii("HTTP/1.1 204 No Content\r\n\r\n"));
        var s3 = fromServer(40101, seq + first.length + 3000, ACK | PSH, last);
        assertEquals(last.length, s3.get(0).capturedLength(), "the body ends inside: copied whole");
        var s4 = fromServer(40101, seq + first.length + 3000 + last.length, ACK, body(3000));
        assertEquals(3000, s4.get(0).capturedLength(), "past the body: copied");
        // The other connection and the other direction are not affected.
        assertEquals(3000, fromServer(40102, seq + first.length, ACK, body(3000)).get(0).capturedLength());
    }

    @Test
    void aSegmentStartingWithAHeadIsAlwaysCopiedAndEndsTheSkip() throws Exception {
        load(8192, List.of());
        // The answer to HEAD carries a length but no body: the next response follows at once.
        byte[] head = concat(ascii("HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n"), body(3000));
        fromServer(40103, 100, ACK | PSH, head);
        byte[] next = concat(ascii("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
        assertEquals(next.length, fromServer(40103, 100 + head.length, ACK | PSH, next).get(0).capturedLength());
        assertEquals(2000, fromServer(40103, 100 + head.length + next.length, ACK, body(2000)).get(0).capturedLength(),
                "the guess was given up with the head that disproved it");
    }

    @Test
    void chunkedAndBodilessResponsesAndNewConnectionsAreNotSkipped() throws Exception {
        load(8192, List.of());
        byte[] chunked = concat(ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 90000\r\n\r\n"),
                body(3000));
        fromServer(40104, 1, ACK, chunked);
        assertEquals(3000, fromServer(40104, 1 + chunked.length, ACK, body(3000)).get(0).capturedLength(),
                "chunked framing needs the bytes");
        byte[] notModified = concat(ascii("HTTP/1.1 304 Not Modified\r\nContent-Length: 90000\r\n\r\n"), body(3000));
        fromServer(40105, 1, ACK, notModified);
        assertEquals(3000, fromServer(40105, 1 + notModified.length, ACK, body(3000)).get(0).capturedLength(),
                "a 304 has no body");
        byte[] big = concat(ascii("HTTP/1.1 200 OK\r\nContent-Length: 90000\r\n\r\n"), body(3000));
        fromServer(40106, 1, ACK, big);
        fromServer(40106, 7, SYN | ACK, new byte[0]); // the same addresses and ports, a new connection
        assertEquals(3000, fromServer(40106, 8, ACK, body(3000)).get(0).capturedLength(),
                "a new connection inherits nothing");
    }

    @Test
    void aConnectionLeftToTheTlsProbesIsNotCopiedButForItsSynFinAndRstUntilItIsOpenedAgain() throws Exception {
        load(8192, List.of());
        byte[] ciphertext = {0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3};
        assertTrue(capture.skipConnection(CLIENT4, 40200, SERVER4, 443));
        assertEquals(0, capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40200, 443, 1, 1, ACK | PSH, ciphertext)))).size(), "client to server");
        assertEquals(0, capture.testRun(eth(IPV4, ipv4(SERVER4, CLIENT4, 6, 0, 0x4000,
                tcp(443, 40200, 1, 9, ACK | PSH, ciphertext)))).size(), "server to client");
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40201, 443, 1, 1, ACK | PSH, ciphertext)))).size(), "another connection");

        assertEquals(1, capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40200, 443, 9, 1, FIN | ACK, new byte[0])))).size(), "its end is seen");
        assertEquals(0, capture.testRun(eth(IPV4, ipv4(SERVER4, CLIENT4, 6, 0, 0x4000,
                tcp(443, 40200, 9, 10, ACK | PSH, ciphertext)))).size(), "the other direction is still skipped");
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(SERVER4, CLIENT4, 6, 0, 0x4000,
                tcp(443, 40200, 1, 1, SYN | ACK, new byte[0])))).size(), "a new connection on the same ports");
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(SERVER4, CLIENT4, 6, 0, 0x4000,
                tcp(443, 40200, 2, 1, ACK | PSH, GET)))).size(), "is copied again");
        assertEquals(1, capture.testRun(eth(IPV4, ipv4(CLIENT4, SERVER4, 6, 0, 0x4000,
                tcp(40200, 443, 10, 2, ACK | PSH, GET)))).size(), "in both directions once the FIN was seen");
    }

    @Test
    void anIpv6ConnectionLeftToTheTlsProbesIsNotCopied() throws Exception {
        load(8192, List.of());
        assertTrue(capture.skipConnection(SERVER6, 443, CLIENT6, 40300));
        assertEquals(0, capture.testRun(eth(IPV6, ipv6(CLIENT6, SERVER6, 6, new byte[0],
                tcp(40300, 443, 1, 1, ACK | PSH, GET)))).size());
        assertEquals(1, capture.testRun(eth(IPV6, ipv6(CLIENT6, SERVER6, 6, new byte[0],
                tcp(40301, 443, 1, 1, ACK | PSH, GET)))).size());
    }
}
