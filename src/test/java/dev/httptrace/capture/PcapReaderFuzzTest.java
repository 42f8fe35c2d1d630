package dev.httptrace.capture;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.ByteArrayInputStream;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz test (Jazzer) of the capture file reader: {@code -r} reads files from anywhere, so no
 * file may make it throw anything but an {@link IOException} (the CLI's clear "cannot read"
 * line), hold memory beyond what the file holds, or return a segment that breaks its contract.
 *
 * <p>A plain {@code mvn test} replays the regression corpus under
 * {@code src/test/resources/dev/httptrace/capture/PcapReaderFuzzTestInputs/read/}; to fuzz:
 * {@code JAZZER_FUZZ=1 mvn test -Dtest=PcapReaderFuzzTest#read} ({@code make fuzz} runs it).
 */
class PcapReaderFuzzTest {

    @FuzzTest(maxDuration = "10m")
    void read(byte[] input) {
        boolean gzip = input.length >= 2 && (input[0] & 0xff) == 0x1f && (input[1] & 0xff) == 0x8b;
        PcapReader reader;
        try {
            reader = new PcapReader(new ByteArrayInputStream(input));
        } catch (IOException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "a bad header says why");
            return;
        }
        long segments = 0;
        try (reader) {
            for (Segment s; (s = reader.next()) != null; ) {
                segments++;
                check(s);
                reader.interfaceName(s.ifindex());
                assertTrue(segments <= input.length, "every segment takes bytes of the file");
            }
        } catch (IOException e) {
            assertTrue(gzip, "only a broken gzip stream fails after the header: " + e);
        }
        PcapReader.Stats stats = reader.stats();
        assertTrue(stats.packets() >= segments && stats.nonTcp() >= 0 && stats.malformed() >= 0, stats::toString);
        assertTrue(reader.bufferCapacity() <= PcapReader.MAX_BLOCK + 4, "buffer bounded");
        if (!gzip) {
            assertTrue(reader.bufferCapacity() <= Math.max(64 * 1024, 2 * input.length),
                    "the buffer grows with the bytes read, not with the lengths claimed: " + reader.bufferCapacity());
        }
    }

    private static void check(Segment s) {
        int addressLength = s.srcAddr().length;
        assertTrue(addressLength == 4 || addressLength == 16);
        assertEquals(addressLength, s.dstAddr().length);
        assertTrue(s.srcPort() >= 0 && s.srcPort() <= 65535 && s.dstPort() >= 0 && s.dstPort() <= 65535);
        assertTrue(s.seq() >= 0 && s.seq() <= 0xFFFF_FFFFL && s.ack() >= 0 && s.ack() <= 0xFFFF_FFFFL);
        assertTrue(s.payloadLength() >= 0 && s.payload().length <= s.payloadLength(), "payload within the IP length");
        assertTrue(s.ifindex() >= 0);
    }
}
