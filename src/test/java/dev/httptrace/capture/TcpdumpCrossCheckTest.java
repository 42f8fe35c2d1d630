package dev.httptrace.capture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import dev.httptrace.live.Live;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.httptrace.capture.Frames.ascii;
import static dev.httptrace.capture.Frames.eth;
import static dev.httptrace.capture.Frames.eth4;
import static dev.httptrace.capture.Frames.ext;
import static dev.httptrace.capture.Frames.ip;
import static dev.httptrace.capture.Frames.ipv4;
import static dev.httptrace.capture.Frames.ipv6;
import static dev.httptrace.capture.Frames.sll;
import static dev.httptrace.capture.Frames.sll2;
import static dev.httptrace.capture.Frames.tcp;
import static dev.httptrace.capture.PcapReaderTest.BE;
import static dev.httptrace.capture.PcapReaderTest.LE;
import static dev.httptrace.capture.PcapReaderTest.T;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Checks the test's capture-file builder against a real reader: tcpdump must read the
 * generated files without complaint and see the same TCP segments (addresses, ports,
 * sequence numbers, payload lengths) as PcapReader. Needs tcpdump on the PATH, not root;
 * skipped without it (it checks the fixtures, not the product).
 */
class TcpdumpCrossCheckTest {

    // "IP 10.0.0.1.54321 > 10.0.0.2.80: Flags" or, after IPv6 extension headers,
    // "IP6 ::1 > ::1: HBH DSTOPT 1 > 2: Flags".
    private static final Pattern ENDPOINTS = Pattern.compile(
            "IP6? (?:(\\S+)\\.(\\d+) > (\\S+)\\.(\\d+)|(\\S+) > (\\S+): (?:[A-Z]+ )+(\\d+) > (\\d+)): Flags \\[");
    private static final Pattern SEQ = Pattern.compile(", seq (\\d+)");
    private static final Pattern LENGTH = Pattern.compile(", length (\\d+)");

    static boolean haveTcpdump() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "tcpdump"))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/bin/tcpdump")) || Files.isExecutable(Path.of("/usr/sbin/tcpdump"));
    }

    static String tcpdumpExe() {
        return Files.isExecutable(Path.of("/usr/bin/tcpdump")) ? "/usr/bin/tcpdump"
                : Files.isExecutable(Path.of("/usr/sbin/tcpdump")) ? "/usr/sbin/tcpdump" : "tcpdump";
    }

    private static String lastOutput = "";

    private static List<String> tcpdump(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(tcpdumpExe(), "-nn", "-S", "-r", file.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("tcpdump -r did not finish within 30 s");
        }
        assertEquals(0, p.exitValue(), "tcpdump failed:\n" + out);
        lastOutput = out;
        List<String> segs = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("reading from file")) {
                continue;
            }
            if (line.contains("truncated") || line.contains("bogus") || line.contains("[|")) {
                throw new AssertionError("tcpdump complains: " + line + "\n" + out);
            }
            Matcher m = ENDPOINTS.matcher(line);
            if (!m.find()) {
                continue;
            }
            String seg = m.group(1) != null
                    ? m.group(1) + ":" + m.group(2) + " > " + m.group(3) + ":" + m.group(4)
                    : m.group(5) + ":" + m.group(7) + " > " + m.group(6) + ":" + m.group(8);
            Matcher seq = SEQ.matcher(line);
            Matcher len = LENGTH.matcher(line);
            if (!len.find()) {
                throw new AssertionError("no length in: " + line);
            }
            // tcpdump prints no seq for segments without payload, SYN or FIN.
            segs.add(seg + (seq.find() ? " seq " + seq.group(1) : "") + " len " + len.group(1));
        }
        return segs;
    }

    private static String addr(byte[] a) {
        // Same RFC 5952 text tcpdump prints.
        return PcapReaderTest.addr(a).replace("[", "").replace("]", "");
    }

    private void check(Path dir, String name, byte[] file, int expectedSegments) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, file);
        List<Segment> segments = PcapReaderTest.read(file).segments();
        assertEquals(expectedSegments, segments.size(), name);
        List<String> ours = segments.stream()
                .map(s -> addr(s.srcAddr()) + ":" + s.srcPort() + " > " + addr(s.dstAddr()) + ":" + s.dstPort()
                        + (s.payloadLength() > 0 || (s.flags() & (Segment.SYN | Segment.FIN)) != 0 ? " seq " + s.seq() : "")
                        + " len " + s.payloadLength())
                .toList();
        List<String> theirs = tcpdump(f);
        assertEquals(ours, theirs, () -> name + ", tcpdump said:\n" + lastOutput);
    }

    @Test
    void tcpdumpReadsTheFixturesAsWeDo(@TempDir Path dir) throws Exception {
        Live.requireOrFail(haveTcpdump(), "tcpdump not installed (make deps installs it)");
        byte[] get = ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        byte[] req4 = ipv4("10.0.0.1", "10.0.0.2", tcp(54321, 80, 1000, 2000, Segment.PSH | Segment.ACK, get));
        byte[] req6 = ipv6("2001:db8::1", "2001:db8::2", tcp(54321, 80, 1000, 2000, Segment.PSH | Segment.ACK, get));
        byte[] ack4 = ipv4("10.0.0.2", "10.0.0.1", tcp(80, 54321, 2000, 1027, Segment.ACK, new byte[0]));
        byte[] ext6 = ipv6(ip("::1"), ip("::1"), 0, Frames.concat(ext(60, 0), ext(6, 1)),
                tcp(1, 2, 3, 4, Segment.SYN, 8, new byte[0]));

        check(dir, "le-us-eth.pcap", new Frames.Pcap(LE, false, 1, 65535)
                .add(T, eth4(req4)).add(T + 1000, eth4(ack4)).add(T + 2000, eth(0x0800, req4, 0x88A8, 0x8100))
                .add(T + 3000, eth(0x86DD, req6, 0x8100)).add(T + 4000, eth(0x86DD, ext6)).bytes(), 5);
        check(dir, "be-ns-sll2.pcap", new Frames.Pcap(BE, true, 276, 65535)
                .add(T, sll2(0x0800, req4)).add(T + 1, sll2(0x86DD, req6)).bytes(), 2);
        check(dir, "sll.pcap", new Frames.Pcap(LE, false, 113, 65535).add(T, sll(0x0800, req4)).bytes(), 1);
        check(dir, "raw.pcap", new Frames.Pcap(LE, false, 101, 65535).add(T, req4).add(T, req6).bytes(), 2);

        Frames.Pcapng ng = new Frames.Pcapng(LE);
        ng.idb(1, 0, ng.options(2, ascii("eth0"), 9, ng.tsresol(9)));
        ng.idb(1, "eth9"); // libpcap wants one link type per file
        ng.epb(0, T, eth4(req4));
        ng.block(0x12345678, new byte[8]);
        ng.epb(1, T / 1000, eth(0x86DD, req6));
        ng.section(LE); // libpcap cannot switch byte order between sections (PcapReaderTest covers that)
        ng.idb(1, "eth1");
        ng.epb(0, T / 1000, eth4(ack4));
        ng.spb(eth4(req4), eth4(req4).length);
        check(dir, "multi.pcapng", ng.bytes(), 4);
    }
}
