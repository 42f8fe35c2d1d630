package dev.httptrace.capture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static dev.httptrace.capture.Frames.ascii;
import static dev.httptrace.capture.Frames.concat;
import static dev.httptrace.capture.Frames.eth;
import static dev.httptrace.capture.Frames.eth4;
import static dev.httptrace.capture.Frames.ext;
import static dev.httptrace.capture.Frames.fragmentHeader;
import static dev.httptrace.capture.Frames.ip;
import static dev.httptrace.capture.Frames.ipv4;
import static dev.httptrace.capture.Frames.ipv6;
import static dev.httptrace.capture.Frames.sll;
import static dev.httptrace.capture.Frames.sll2;
import static dev.httptrace.capture.Frames.tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PcapReaderTest {

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    /** 2026-11-23T16:40:01.123456789Z */
    static final long T = 1_795_452_001_123_456_789L;
    static final long T_US = T / 1000 * 1000;

    static final int ACK = Segment.ACK, PSH = Segment.PSH, SYN = Segment.SYN, FIN = Segment.FIN, RST = Segment.RST;

    static final byte[] GET = ascii("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");

    /** The request segment 10.0.0.1:54321 -> 10.0.0.2:80. */
    static byte[] reqTcp() {
        return tcp(54321, 80, 1000, 2000, PSH | ACK, GET);
    }

    static final String REQ = "10.0.0.1:54321 > 10.0.0.2:80 seq 1000 ack 2000 flags 0x18 len 32 [GET /hello HTTP/1.1\r\nHost: x\r\n\r\n]";
    static final String REQ6 = "[2001:db8::1]:54321 > [2001:db8::2]:80 seq 1000 ack 2000 flags 0x18 len 32 [GET /hello HTTP/1.1\r\nHost: x\r\n\r\n]";

    static byte[] req4() {
        return ipv4("10.0.0.1", "10.0.0.2", reqTcp());
    }

    static byte[] req6() {
        return ipv6("2001:db8::1", "2001:db8::2", reqTcp());
    }

    static String describe(Segment s) {
        return addr(s.srcAddr()) + ":" + s.srcPort() + " > " + addr(s.dstAddr()) + ":" + s.dstPort()
                + " seq " + s.seq() + " ack " + s.ack() + " flags 0x" + Integer.toHexString(s.flags())
                + " len " + s.payloadLength() + " [" + new String(s.payload(), StandardCharsets.ISO_8859_1) + "]";
    }

    static String addr(byte[] a) {
        try {
            String h = InetAddress.getByAddress(a).getHostAddress();
            return a.length == 16 ? "[" + h.replaceAll("(^|:)0(:0)+(:|$)", "::").replaceAll(":::", "::") + "]" : h;
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Everything read, and the reader (for stats and names). */
    record Read(List<Segment> segments, PcapReader reader) {
        List<String> described() {
            return segments.stream().map(PcapReaderTest::describe).toList();
        }

        PcapReader.Stats stats() {
            return reader.stats();
        }

        Segment only() {
            assertEquals(1, segments.size(), () -> "segments: " + described() + " stats " + stats());
            return segments.getFirst();
        }
    }

    static Read read(byte[] file) {
        try {
            PcapReader r = new PcapReader(new ByteArrayInputStream(file));
            List<Segment> out = new ArrayList<>();
            for (Segment s; (s = r.next()) != null; ) {
                out.add(s);
            }
            assertNull(r.next(), "stays at the end");
            r.close();
            return new Read(out, r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Read readPcap(int linktype, byte[]... frames) {
        Frames.Pcap p = new Frames.Pcap(linktype);
        for (byte[] f : frames) {
            p.add(T, f);
        }
        return read(p.bytes());
    }

    // ---- classic pcap ---------------------------------------------------------------

    @ParameterizedTest
    @CsvSource({"LITTLE_ENDIAN,false", "BIG_ENDIAN,false", "LITTLE_ENDIAN,true", "BIG_ENDIAN,true"})
    void pcapEitherByteOrderMicrosOrNanos(String order, boolean nanos) {
        ByteOrder o = order.equals("BIG_ENDIAN") ? BE : LE;
        byte[] file = new Frames.Pcap(o, nanos, 1, 65535).add(T, eth4(req4())).bytes();
        Read r = read(file);
        Segment s = r.only();
        assertEquals(REQ, describe(s));
        assertEquals(nanos ? T : T_US, s.timestampNanos());
        assertEquals(0, s.ifindex());
        assertEquals(4, s.srcAddr().length);
        assertEquals(new PcapReader.Stats(1, 0, 0), r.stats());
        assertNull(r.reader().interfaceName(0));
        assertNull(r.reader().interfaceName(1));
    }

    @Test
    void ethernetPaddingIsNotPayload() {
        // 1 payload byte: the frame is padded to 60 bytes, plus a 4-byte FCS on the wire.
        byte[] frame = concat(eth4(ipv4("10.0.0.1", "10.0.0.2", tcp(1, 80, 5, 6, PSH | ACK, ascii("x")))),
                new byte[]{(byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef});
        assertEquals(64, frame.length);
        byte[] ack = eth4(ipv4("10.0.0.2", "10.0.0.1", tcp(80, 1, 6, 6, ACK, new byte[0])));
        Read r = readPcap(1, frame, ack);
        assertEquals(List.of("10.0.0.1:1 > 10.0.0.2:80 seq 5 ack 6 flags 0x18 len 1 [x]",
                "10.0.0.2:80 > 10.0.0.1:1 seq 6 ack 6 flags 0x10 len 0 []"), r.described());
    }

    @Test
    void vlanTagsSingleAndStacked() {
        Read r = readPcap(1,
                eth(0x0800, req4(), 0x8100),
                eth(0x0800, req4(), 0x88A8, 0x8100),
                eth(0x86DD, req6(), 0x9100, 0x8100, 0x8100));
        assertEquals(List.of(REQ, REQ, REQ6), r.described());
    }

    @Test
    void linuxCookedV1AndV2() {
        assertEquals(List.of(REQ, REQ6, REQ), readPcap(113, sll(0x0800, req4()), sll(0x86DD, req6()),
                sll(0x8100, concat(new byte[]{0, 5, 8, 0}, req4()))).described());
        Read r = readPcap(276, sll2(0x0800, req4()), sll2(0x86DD, req6()), sll2(0x0806, new byte[28]));
        assertEquals(List.of(REQ, REQ6), r.described());
        assertEquals(0, r.segments().get(0).ifindex(), "classic pcap: no interface list");
        assertEquals(new PcapReader.Stats(3, 1, 0), r.stats());
    }

    @Test
    void bsdLoopbackNullAndLoop() {
        Read r = readPcap(0,
                Frames.bsdLoop(2, LE, req4()),
                Frames.bsdLoop(2, BE, req4()),
                Frames.bsdLoop(10, LE, req6()),
                Frames.bsdLoop(24, LE, req6()),
                Frames.bsdLoop(28, BE, req6()),
                Frames.bsdLoop(30, LE, req6()),
                Frames.bsdLoop(7, LE, req4()));
        assertEquals(List.of(REQ, REQ, REQ6, REQ6, REQ6, REQ6), r.described());
        assertEquals(new PcapReader.Stats(7, 1, 0), r.stats());
        assertEquals(List.of(REQ, REQ6), readPcap(108, Frames.bsdLoop(2, BE, req4()), Frames.bsdLoop(30, BE, req6())).described());
    }

    @Test
    void rawIpLinkTypes() {
        assertEquals(List.of(REQ, REQ6), readPcap(101, req4(), req6()).described());
        assertEquals(List.of(REQ), readPcap(228, req4()).described());
        assertEquals(List.of(REQ6), readPcap(229, req6()).described());
        Read bad = readPcap(101, new byte[]{0x50, 0, 0, 0});
        assertEquals(new PcapReader.Stats(1, 0, 1), bad.stats());
    }

    @Test
    void ipv4AndTcpOptions() {
        byte[] p = ipv4(ip("10.0.0.1"), ip("10.0.0.2"), 6, 40, 0, tcp(54321, 80, 1000, 2000, PSH | ACK, 20, GET));
        assertEquals(List.of(REQ), readPcap(1, eth4(p)).described());
        byte[] p2 = ipv4(ip("10.0.0.1"), ip("10.0.0.2"), 6, 4, 0, tcp(54321, 80, 1000, 2000, PSH | ACK, 40, GET));
        assertEquals(List.of(REQ), readPcap(1, eth4(p2)).described());
    }

    @Test
    void ipv4FragmentsAndOtherProtocols() {
        byte[] first = ipv4(ip("10.0.0.1"), ip("10.0.0.2"), 6, 0, 0x2000 /* MF, offset 0 */, reqTcp());
        byte[] later = ipv4(ip("10.0.0.1"), ip("10.0.0.2"), 6, 0, 185, ascii("more bytes of the segment"));
        byte[] udp = ipv4(ip("10.0.0.1"), ip("10.0.0.2"), 17, 0, 0, new byte[12]);
        byte[] arp = eth(0x0806, new byte[28]);
        byte[] llc = eth(0x0040, new byte[40]); // 802.3 length field
        Read r = readPcap(1, eth4(first), eth4(later), eth4(udp), arp, llc);
        assertEquals(List.of(REQ), r.described());
        assertEquals(new PcapReader.Stats(5, 4, 0), r.stats());
    }

    @Test
    void ipv6ExtensionHeadersAndFragments() {
        byte[] src = ip("2001:db8::1"), dst = ip("2001:db8::2");
        byte[] chain = concat(ext(43, 0), ext(60, 1), ext(6, 0)); // hop-by-hop -> routing -> dest opts -> TCP
        byte[] withExt = ipv6(src, dst, 0, chain, reqTcp());
        byte[] firstFrag = ipv6(src, dst, 44, fragmentHeader(6, 0, true), reqTcp());
        byte[] laterFrag = ipv6(src, dst, 44, fragmentHeader(6, 100, false), ascii("rest"));
        byte[] udp = ipv6(src, dst, 17, new byte[0], new byte[8]);
        byte[] noNext = ipv6(src, dst, 60, ext(59, 0), new byte[0]);
        byte[] ah = ipv6(src, dst, 51, concat(new byte[]{6, 4, 0, 0}, new byte[20]), reqTcp()); // AH: (4+2)*4 = 24
        Read r = readPcap(1, eth(0x86DD, withExt), eth(0x86DD, firstFrag), eth(0x86DD, laterFrag),
                eth(0x86DD, udp), eth(0x86DD, noNext), eth(0x86DD, ah));
        assertEquals(List.of(REQ6, REQ6, REQ6), r.described());
        assertEquals(new PcapReader.Stats(6, 3, 0), r.stats());
        assertEquals(16, r.segments().getFirst().srcAddr().length);
    }

    @Test
    void snapLengthCutsThePayloadNotThePayloadLength() {
        byte[] frame = eth4(req4());
        int headers = 14 + 20 + 20;
        Frames.Pcap p = new Frames.Pcap(LE, false, 1, headers + 10);
        p.add(T, frame, headers + 10, frame.length);  // 10 payload bytes captured
        p.add(T, frame, headers, frame.length);       // headers only
        p.add(T, frame, headers - 1, frame.length);   // TCP header cut: malformed
        p.add(T, frame, 10, frame.length);            // Ethernet header cut: malformed
        Read r = read(p.bytes());
        assertEquals(List.of("10.0.0.1:54321 > 10.0.0.2:80 seq 1000 ack 2000 flags 0x18 len 32 [GET /hello]",
                "10.0.0.1:54321 > 10.0.0.2:80 seq 1000 ack 2000 flags 0x18 len 32 []"), r.described());
        assertTrue(r.segments().get(0).truncated());
        assertEquals(new PcapReader.Stats(4, 0, 2), r.stats());
    }

    @Test
    void tcpOptionsCutBySnapLengthGiveAnEmptyPayload() {
        byte[] frame = eth4(ipv4(ip("10.0.0.1"), ip("10.0.0.2"), 6, 0, 0, tcp(1, 2, 3, 4, PSH | ACK, 12, ascii("abc"))));
        Read r = read(new Frames.Pcap(LE, false, 1, 0).add(T, frame, 14 + 20 + 24, frame.length).bytes());
        Segment s = r.only();
        assertEquals(3, s.payloadLength());
        assertEquals(0, s.payload().length);
    }

    @Test
    void garbageFramesAreCountedAndSkipped() {
        byte[] good = eth4(req4());
        List<byte[]> bad = new ArrayList<>();
        byte[] v = req4().clone();
        v[0] = 0x55; // version 5
        bad.add(eth4(v));
        byte[] ihl = req4().clone();
        ihl[0] = 0x44; // IHL 16 bytes
        bad.add(eth4(ihl));
        byte[] tot = req4().clone();
        tot[2] = 0;
        tot[3] = 19; // total length < header
        bad.add(eth4(tot));
        byte[] doffSmall = req4().clone();
        doffSmall[20 + 12] = 0x40; // data offset 16 bytes
        bad.add(eth4(doffSmall));
        byte[] doffBig = req4().clone();
        doffBig[20 + 12] = (byte) 0xF0; // 60 bytes > segment (20 + 32 payload = 52)
        bad.add(eth4(doffBig));
        byte[] shortTcp = ipv4(ip("10.0.0.1"), ip("10.0.0.2"), 6, 0, 0, new byte[10]);
        bad.add(eth4(shortTcp));
        byte[] v6short = Arrays.copyOf(req6(), 30);
        bad.add(eth(0x86DD, v6short));
        byte[] v6ext = ipv6(ip("::1"), ip("::1"), 0, ext(6, 3) /* 32 bytes */, new byte[0]); // ext longer than payload
        bad.add(eth(0x86DD, Arrays.copyOf(v6ext, 40 + 8)));
        bad.add(new byte[5]);
        Frames.Pcap p = new Frames.Pcap(1);
        p.add(T, good);
        for (byte[] b : bad) {
            p.add(T, b);
        }
        p.add(T, good);
        Read r = read(p.bytes());
        assertEquals(List.of(REQ, REQ), r.described());
        assertEquals(new PcapReader.Stats(2 + bad.size(), 0, bad.size()), r.stats());
    }

    @Test
    void ipLengthZeroMeansTheLinkLength() {
        // Segmentation offload / BIG TCP: a sender-side capture with total length 0.
        byte[] p4 = req4();
        p4[2] = 0;
        p4[3] = 0;
        byte[] p6 = req6();
        p6[4] = 0;
        p6[5] = 0;
        assertEquals(List.of(REQ, REQ6), readPcap(101, p4, p6).described());
    }

    @Test
    void truncatedFileEndsQuietly() {
        byte[] whole = new Frames.Pcap(1).add(T, eth4(req4())).add(T + 1000, eth4(req4())).bytes();
        for (int cut : new int[]{whole.length - 1, whole.length - 40, 24 + 16 + 86 + 8}) {
            Read r = read(Arrays.copyOf(whole, cut));
            assertEquals(List.of(REQ), r.described(), "cut at " + cut);
            assertEquals(1, r.stats().malformed(), "cut at " + cut);
        }
        Read onlyHeader = read(Arrays.copyOf(whole, 24));
        assertEquals(new PcapReader.Stats(0, 0, 0), onlyHeader.stats());
    }

    @Test
    void absurdRecordLengthEndsTheFile() {
        byte[] file = new Frames.Pcap(1).add(T, eth4(req4()))
                .raw(ByteBuffer.allocate(16).order(LE).putInt(1).putInt(0).putInt(0x7FFFFFF0).putInt(0x7FFFFFF0).array())
                .raw(new byte[100]).bytes();
        Read r = read(file);
        assertEquals(List.of(REQ), r.described());
        assertEquals(new PcapReader.Stats(2, 0, 1), r.stats());
    }

    @Test
    void aHostileBlockLengthCostsNoMoreMemoryThanTheFileHolds() throws IOException {
        // A pcapng block and a pcap record each claiming 16 MiB, in files of a few hundred bytes.
        Frames.Pcapng ng = new Frames.Pcapng(LE).idb(1, null);
        byte[] pcapng = Frames.concat(ng.bytes(),
                ByteBuffer.allocate(8).order(LE).putInt(6).putInt(PcapReader.MAX_BLOCK - 4).array(), new byte[200]);
        byte[] pcap = new Frames.Pcap(LE, false, 1, -1)
                .raw(ByteBuffer.allocate(16).order(LE).putInt(1).putInt(0).putInt(PcapReader.MAX_BLOCK).putInt(PcapReader.MAX_BLOCK).array())
                .raw(new byte[200]).bytes();
        for (byte[] file : List.of(pcapng, pcap)) {
            try (PcapReader r = new PcapReader(new ByteArrayInputStream(file))) {
                assertNull(r.next());
                assertEquals(1, r.stats().malformed());
                assertEquals(64 * 1024, r.bufferCapacity(), "the buffer did not grow to the claimed length");
            }
        }
    }

    @Test
    void interfaceDescriptionsAndTheirNamesAreBounded() {
        Frames.Pcapng ng = new Frames.Pcapng(LE).idb(1, "x".repeat(5000));
        for (int i = 1; i < PcapReader.MAX_INTERFACES + 10; i++) {
            ng.idb(1, null);
        }
        ng.epb(0, 1, eth4(req4()));
        Read r = read(ng.bytes());
        assertEquals(PcapReader.MAX_INTERFACE_NAME, r.reader().interfaceName(1).length());
        assertNull(r.reader().interfaceName(PcapReader.MAX_INTERFACES + 1));
        assertEquals(List.of(), r.described(), "reading stopped at the first interface too many");
        assertEquals(1, r.stats().malformed());
    }

    @Test
    void gzipCompressedFiles() throws IOException {
        byte[] file = new Frames.Pcap(1).add(T, eth4(req4())).bytes();
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream o = new GZIPOutputStream(gz)) {
            o.write(file);
        }
        assertEquals(List.of(REQ), read(gz.toByteArray()).described());
    }

    static IOException badHeader(byte[] file) {
        return assertThrows(IOException.class, () -> new PcapReader(new ByteArrayInputStream(file)));
    }

    @Test
    void badFileHeadersThrowClearMessages() {
        assertTrue(badHeader(new byte[0]).getMessage().contains("empty"));
        assertTrue(badHeader(new byte[]{(byte) 0xd4, (byte) 0xc3}).getMessage().contains("2 bytes"));
        assertTrue(badHeader(ascii("GET / HTTP/1.1\r\n\r\n")).getMessage()
                .contains("not a pcap or pcapng capture file (starts with 47 45 54 20)"));
        assertTrue(badHeader(Arrays.copyOf(new Frames.Pcap(1).bytes(), 20)).getMessage().contains("truncated pcap file header"));
        assertTrue(badHeader(new Frames.Pcap(105).bytes()).getMessage().contains("unsupported pcap link type 105 (IEEE802_11)"));
        byte[] v3 = new Frames.Pcap(1).bytes();
        v3[4] = 3;
        assertTrue(badHeader(v3).getMessage().contains("unsupported pcap version 3.4"));
        byte[] modified = new Frames.Pcap(1).bytes();
        modified[0] = 0x34;
        modified[1] = (byte) 0xcd;
        assertTrue(badHeader(modified).getMessage().contains("Kuznetzov"));
        byte[] ng = new Frames.Pcapng(LE).bytes();
        ng[8] = 0; // byte-order magic
        assertTrue(badHeader(ng).getMessage().contains("bad section header block"));
        byte[] ng2 = new Frames.Pcapng(BE).bytes();
        ng2[13] = 2; // major version 2
        assertTrue(badHeader(ng2).getMessage().contains("unsupported pcapng version 2.0"));
        assertTrue(badHeader(Arrays.copyOf(new Frames.Pcapng(LE).bytes(), 10)).getMessage().contains("bad section header"));
    }

    @Test
    void unreadableStreamThrows() throws IOException {
        byte[] file = new Frames.Pcap(1).add(T, eth4(req4())).bytes();
        InputStream failing = new InputStream() {
            int i;

            @Override
            public int read() throws IOException {
                if (i == 30) {
                    throw new IOException("disk on fire");
                }
                return file[i++] & 0xff;
            }
        };
        PcapReader r = new PcapReader(failing);
        assertEquals("disk on fire", assertThrows(IOException.class, r::next).getMessage());
    }

    // ---- pcapng ---------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"LITTLE_ENDIAN", "BIG_ENDIAN"})
    void pcapngEitherByteOrder(String order) {
        ByteOrder o = order.equals("BIG_ENDIAN") ? BE : LE;
        Frames.Pcapng f = new Frames.Pcapng(o);
        f.idb(1, 0, f.options(2, ascii("eth0"), 9, f.tsresol(9)));
        f.idb(276, 0, f.options(2, ascii("any\0\0"), 9, f.tsresol(9))); // trailing NULs are not part of the name
        f.epb(0, T, eth4(req4()));
        f.epb(1, T + 1, sll2(0x86DD, req6()));
        Read r = read(f.bytes());
        assertEquals(List.of(REQ, REQ6), r.described());
        assertEquals(T, r.segments().get(0).timestampNanos());
        assertEquals(T + 1, r.segments().get(1).timestampNanos());
        assertEquals(1, r.segments().get(0).ifindex());
        assertEquals(2, r.segments().get(1).ifindex());
        assertEquals("eth0", r.reader().interfaceName(1));
        assertEquals("any", r.reader().interfaceName(2));
        assertNull(r.reader().interfaceName(0));
        assertNull(r.reader().interfaceName(3));
        assertEquals(new PcapReader.Stats(2, 0, 0), r.stats());
    }

    @Test
    void pcapngTimestampResolutionsAndOffset() {
        Frames.Pcapng f = new Frames.Pcapng(LE);
        long sec = T / 1_000_000_000L;
        f.idb(1, null);                                                 // default: microseconds
        f.idb(1, 0, f.options(9, f.tsresol(3)));                         // milliseconds
        f.idb(1, 0, f.options(9, f.tsresol(0x80 | 10)));                 // 2^-10 s
        f.idb(1, 0, f.options(9, f.tsresol(0x80 | 32), 14, f.i64(-3600))); // 2^-32 s, 1 h offset back
        f.idb(1, 0, f.options(9, f.tsresol(12)));                        // picoseconds
        f.epb(0, T / 1000, eth4(req4()));
        f.epb(1, T / 1_000_000, eth4(req4()));
        f.epb(2, sec * 1024 + 512, eth4(req4()));
        f.epb(3, (sec << 32) | 0x40000000L, eth4(req4()));
        f.epb(4, 1_000_000_000_123_456L, eth4(req4()));
        List<Long> ts = read(f.bytes()).segments().stream().map(Segment::timestampNanos).toList();
        assertEquals(List.of(T_US, T / 1_000_000 * 1_000_000, sec * 1_000_000_000L + 500_000_000L,
                (sec - 3600) * 1_000_000_000L + 250_000_000L, 1_000_000_000_123L), ts);
    }

    @Test
    void timestampConversion() {
        assertEquals(5_000_000_000L, PcapReader.timestampNanos(5, 0, 0));
        assertEquals(5, PcapReader.timestampNanos(5, 9, 0));
        assertEquals(0, PcapReader.timestampNanos(5, 10, 0));
        assertEquals(7, PcapReader.timestampNanos(70, 10, 0));
        assertEquals(0, PcapReader.timestampNanos(Long.MAX_VALUE, 100, 0));
        assertEquals(5_000_000_000L, PcapReader.timestampNanos(5, 0x80, 0));
        assertEquals(500_000_000L, PcapReader.timestampNanos(1, 0x81, 0));
        // 2^-64: 2^63 units is half a second; and units are unsigned (2^64 - 1 ~ 1 s).
        assertEquals(500_000_000L, PcapReader.timestampNanos(Long.MIN_VALUE, 0x80 | 64, 0));
        assertEquals(999_999_999L, PcapReader.timestampNanos(-1L, 0x80 | 64, 0));
        assertEquals(1_000_000_000L + 2_000_000_000L, PcapReader.timestampNanos(1_000_000, 6, 2));
        long units = 1_795_452_001L << 30 | (1L << 29);
        assertEquals(1_795_452_001_500_000_000L, PcapReader.timestampNanos(units, 0x80 | 30, 0));
    }

    @Test
    void pcapngSectionsSwitchByteOrderAndRestartInterfaceIds() {
        Frames.Pcapng f = new Frames.Pcapng(LE);
        f.idb(1, "a");
        f.epb(0, T / 1000, eth4(req4()));
        f.section(BE);
        f.idb(113, "b");
        f.idb(1, "c");
        f.epb(0, T / 1000, sll(0x0800, req4()));
        f.epb(1, T / 1000, eth4(req4()));
        f.section(LE);
        f.epb(0, T / 1000, eth4(req4())); // no interface in this section yet: malformed
        f.idb(1, "d");
        f.epb(0, T / 1000, eth4(req4()));
        Read r = read(f.bytes());
        assertEquals(List.of(1, 2, 3, 4), r.segments().stream().map(Segment::ifindex).toList());
        assertEquals(List.of("a", "b", "c", "d"), List.of(r.reader().interfaceName(1), r.reader().interfaceName(2),
                r.reader().interfaceName(3), r.reader().interfaceName(4)));
        assertEquals(List.of(REQ, REQ, REQ, REQ), r.described());
        assertEquals(new PcapReader.Stats(5, 0, 1), r.stats());
    }

    @Test
    void simpleAndObsoletePacketBlocks() {
        Frames.Pcapng f = new Frames.Pcapng(BE);
        byte[] frame = eth4(req4());
        f.idb(1, 14 + 20 + 20 + 3, new byte[0]); // snap length: 3 payload bytes
        f.epb(0, T / 1000, frame, 14 + 20 + 20 + 3, frame.length);
        f.spb(Arrays.copyOf(frame, 14 + 20 + 20 + 3), frame.length); // no timestamp: the one before
        f.opb(0, T / 1000 + 5, frame);
        Read r = read(f.bytes());
        String cut = "10.0.0.1:54321 > 10.0.0.2:80 seq 1000 ack 2000 flags 0x18 len 32 [GET]";
        assertEquals(List.of(cut, cut, REQ), r.described());
        assertEquals(List.of(T_US, T_US, T_US + 5000), r.segments().stream().map(Segment::timestampNanos).toList());
    }

    @Test
    void pcapngUnknownBlocksAreSkipped() {
        Frames.Pcapng f = new Frames.Pcapng(LE);
        f.block(4, new byte[]{0, 0, 0, 0});                 // name resolution
        f.idb(1, "eth0");
        f.block(5, new byte[12]);                           // interface statistics
        f.block(0x00000BAD, new byte[]{1, 2, 3, 4, 5, 6, 7, 8}); // custom
        f.block(0x0000000A, new byte[8]);                   // decryption secrets
        f.epb(0, T / 1000, eth4(req4()));
        f.block(0x12345678, new byte[0]);
        f.epb(0, T / 1000, eth4(req4()));
        Read r = read(f.bytes());
        assertEquals(List.of(REQ, REQ), r.described());
        assertEquals(new PcapReader.Stats(2, 0, 0), r.stats());
    }

    @Test
    void pcapngMalformedBlocksAreCountedAndSkipped() {
        Frames.Pcapng f = new Frames.Pcapng(LE);
        f.idb(1, "eth0");
        f.idb(105, "wlan0");                                   // unsupported link type: not TCP
        f.block(1, new byte[4]);                              // IDB too short: still takes id 2
        f.epb(0, T / 1000, eth4(req4()));
        f.epb(1, T / 1000, new byte[40]);
        f.epb(2, T / 1000, eth4(req4()));                     // its interface was broken
        f.epb(9, T / 1000, eth4(req4()));                     // no such interface
        f.block(6, new byte[12]);                             // EPB too short
        f.block(6, ByteBuffer.allocate(24).order(LE).putInt(0).putInt(0).putInt(0).putInt(100).putInt(100).array()); // caplen > block
        f.block(3, new byte[0]);                              // SPB too short
        f.epb(0, T / 1000, eth4(req4()));
        Read r = read(f.bytes());
        assertEquals(List.of(REQ, REQ), r.described());
        assertEquals(new PcapReader.Stats(8, 1, 6), r.stats()); // broken IDB + 5 bad packet blocks
    }

    @Test
    void pcapngBrokenFramingEndsTheFile() {
        Frames.Pcapng base = new Frames.Pcapng(LE);
        base.idb(1, "eth0");
        base.epb(0, T / 1000, eth4(req4()));
        byte[] good = base.bytes();

        byte[] notMultipleOf4 = concat(good, ByteBuffer.allocate(16).order(LE).putInt(6).putInt(14).array());
        byte[] tooShort = concat(good, ByteBuffer.allocate(8).order(LE).putInt(6).putInt(8).array());
        byte[] huge = concat(good, ByteBuffer.allocate(8).order(LE).putInt(6).putInt(0x7FFFFFFC).array());
        byte[] trailerMismatch = concat(good, ByteBuffer.allocate(12).order(LE).putInt(4).putInt(12).putInt(16).array(), good);
        byte[] cutBlock = Arrays.copyOf(concat(good, good), good.length + 40 + 30);
        byte[] cutHeader = concat(good, new byte[]{6, 0, 0});
        byte[] badSection = concat(good, ByteBuffer.allocate(28).order(LE).putInt(0x0A0D0D0A).putInt(28)
                .putInt(0x11111111).array());
        for (byte[] file : List.of(notMultipleOf4, tooShort, huge, trailerMismatch, cutBlock, cutHeader, badSection)) {
            Read r = read(file);
            assertEquals(List.of(REQ), r.described());
            assertEquals(1, r.stats().malformed());
        }
    }

    @Test
    void aWholeConnectionThroughTheFilter() {
        Frames.Pcapng f = new Frames.Pcapng(LE);
        f.idb(1, 0, f.options(2, ascii("lo"), 9, f.tsresol(9)));
        String c = "127.0.0.1", s = "127.0.0.1";
        byte[] none = new byte[0];
        byte[] resp = ascii("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        long t = T;
        byte[][] frames = {
                ipv4(c, s, tcp(40000, 8080, 100, 0, SYN, none)),
                ipv4(s, c, tcp(8080, 40000, 500, 101, SYN | ACK, none)),
                ipv4(c, s, tcp(40000, 8080, 101, 501, ACK, none)),
                ipv4(c, s, tcp(40000, 8080, 101, 501, PSH | ACK, GET)),
                ipv4(s, c, tcp(8080, 40000, 501, 133, ACK, none)),
                ipv4(s, c, tcp(8080, 40000, 501, 133, PSH | ACK, resp)),
                ipv4(c, s, tcp(40000, 8080, 133, 501 + resp.length, FIN | ACK, none)),
                ipv4(s, c, tcp(8080, 40000, 501 + resp.length, 134, RST, none)),
                ipv4(c, s, tcp(40001, 9090, 1, 1, PSH | ACK, ascii("other"))),
        };
        for (byte[] fr : frames) {
            f.epb(0, t++, eth4(fr));
        }
        Read r = read(f.bytes());
        assertEquals(9, r.segments().size());
        SegmentFilter filter = new SegmentFilter(java.util.Set.of(8080));
        List<String> kept = r.segments().stream().filter(filter::accepts).map(PcapReaderTest::describe).toList();
        assertEquals(List.of(
                "127.0.0.1:40000 > 127.0.0.1:8080 seq 100 ack 0 flags 0x2 len 0 []",
                "127.0.0.1:8080 > 127.0.0.1:40000 seq 500 ack 101 flags 0x12 len 0 []",
                "127.0.0.1:40000 > 127.0.0.1:8080 seq 101 ack 501 flags 0x18 len 32 [GET /hello HTTP/1.1\r\nHost: x\r\n\r\n]",
                "127.0.0.1:8080 > 127.0.0.1:40000 seq 501 ack 133 flags 0x18 len 43 [HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello]",
                "127.0.0.1:40000 > 127.0.0.1:8080 seq 133 ack 544 flags 0x11 len 0 []",
                "127.0.0.1:8080 > 127.0.0.1:40000 seq 544 ack 134 flags 0x4 len 0 []"), kept);
        assertEquals(7, r.segments().stream().filter(new SegmentFilter(java.util.Set.of())::accepts).count());
        assertEquals("lo", r.reader().interfaceName(r.segments().getFirst().ifindex()));
        assertEquals(T, r.segments().getFirst().timestampNanos());
    }

    @Test
    void sequenceNumbersAreUnsigned() {
        Read r = readPcap(1, eth4(ipv4("10.0.0.1", "10.0.0.2", tcp(65535, 1, 0xFFFFFFF0L, 0x80000000L, ACK | FIN, new byte[0]))));
        Segment s = r.only();
        assertEquals(0xFFFFFFF0L, s.seq());
        assertEquals(0x80000000L, s.ack());
        assertEquals(65535, s.srcPort());
    }
}
