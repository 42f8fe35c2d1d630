package dev.httptrace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code httptrace -r FILE} as a user runs it (the CLI in a child JVM on the test class path,
 * no root): what the records say about the interface of a capture file.
 */
class MainOfflineTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void pcapngWithoutInterfaceNamesGivesRecordsWithoutInterfaceNotThisHostsInterfaceAtThatIndex() throws Exception {
        // Interface id 0 is ifindex 1 in the reader: on this host that is "lo", which the file never said.
        JsonNode r = only(trace(pcapng(null)));
        assertTrue(r.at("/httptrace/interface").isMissingNode(), r.toString());
    }

    @Test
    void pcapngInterfaceNameIsTheOneTheFileGives() throws Exception {
        JsonNode r = only(trace(pcapng("capture-eth7")));
        assertEquals("capture-eth7", r.at("/httptrace/interface").asText(), r.toString());
    }

    @Test
    void classicPcapGivesRecordsWithoutInterface() throws Exception {
        JsonNode r = only(trace(pcap()));
        assertTrue(r.at("/httptrace/interface").isMissingNode(), r.toString());
        assertEquals("/x", r.at("/url/path").asText());
    }

    private static JsonNode only(List<String> lines) throws Exception {
        assertEquals(1, lines.size(), "records: " + lines);
        return JSON.readTree(lines.getFirst());
    }

    private List<String> trace(byte[] capture) throws Exception {
        Path file = Files.write(dir.resolve("capture"), capture);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "-q", "-r", file.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "httptrace -r finished");
        assertEquals(0, p.exitValue(), "exit code; stdout: " + out);
        return out.lines().toList();
    }

    // ---------------------------------------------------------------- a minimal capture

    private static final byte[][] FRAMES = {
        frame(true, 1001, 5001, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
        frame(false, 5001, 1029, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    };

    /** Ethernet, IPv4 10.0.0.1:40000 <-> 10.0.0.2:80, TCP PSH|ACK with the payload. */
    private static byte[] frame(boolean fromClient, long seq, long ack, String text) {
        byte[] payload = text.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 20 + payload.length).order(ByteOrder.BIG_ENDIAN);
        b.put(new byte[12]).putShort((short) 0x0800);
        byte[] client = {10, 0, 0, 1};
        byte[] server = {10, 0, 0, 2};
        b.put((byte) 0x45).put((byte) 0).putShort((short) (40 + payload.length)).putInt(0)
                .put((byte) 64).put((byte) 6).putShort((short) 0)
                .put(fromClient ? client : server).put(fromClient ? server : client);
        b.putShort((short) (fromClient ? 40000 : 80)).putShort((short) (fromClient ? 80 : 40000))
                .putInt((int) seq).putInt((int) ack).put((byte) 0x50).put((byte) 0x18)
                .putShort((short) 65535).putInt(0);
        b.put(payload);
        return b.array();
    }

    private static byte[] pcap() {
        ByteBuffer b = ByteBuffer.allocate(1 << 12).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        int t = 1_700_000_000;
        for (byte[] f : FRAMES) {
            b.putInt(t).putInt(0).putInt(f.length).putInt(f.length).put(f);
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    /** Section header, one Ethernet interface (named when {@code name} is not null), enhanced packet blocks. */
    private static byte[] pcapng(String name) {
        var out = new ByteArrayOutputStream();
        out.writeBytes(block(0x0A0D0D0A, le(16).putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0)
                .putLong(-1).array()));
        ByteBuffer idb;
        if (name == null) {
            idb = le(8).putShort((short) 1).putShort((short) 0).putInt(0); // no options
        } else {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            int padded = (n.length + 3) & ~3;
            idb = le(8 + 4 + padded + 4).putShort((short) 1).putShort((short) 0).putInt(0)
                    .putShort((short) 2).putShort((short) n.length).put(n).put(new byte[padded - n.length])
                    .putInt(0); // opt_endofopt
        }
        out.writeBytes(block(1, idb.array()));
        long micros = 1_700_000_000_000_000L;
        for (byte[] f : FRAMES) {
            int padded = (f.length + 3) & ~3;
            ByteBuffer epb = le(20 + padded).putInt(0).putInt((int) (micros >>> 32)).putInt((int) micros)
                    .putInt(f.length).putInt(f.length).put(f);
            out.writeBytes(block(6, epb.array()));
            micros += 1000;
        }
        return out.toByteArray();
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] block(int type, byte[] body) {
        int total = 12 + body.length;
        return le(total).putInt(type).putInt(total).put(body).putInt(total).array();
    }
}
