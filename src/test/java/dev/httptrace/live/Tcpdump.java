package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.httptrace.output.SchemaValidator;
import dev.httptrace.capture.PcapReader;
import dev.httptrace.capture.Segment;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * tcpdump recording loopback traffic to a file for the tests that compare live and offline
 * traces (and httptrace with tshark), plus the process helpers those tests share: signals
 * by PID to processes this test started, and {@code ./httptrace -r FILE}.
 */
final class Tcpdump implements AutoCloseable {
    private final Process process;
    private final List<String> stderr = Collections.synchronizedList(new ArrayList<>());
    private final CountDownLatch listening = new CountDownLatch(1);
    private final Thread errReader;

    private Tcpdump(Process process) {
        this.process = process;
        errReader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = process.errorReader()) {
                String line;
                while ((line = r.readLine()) != null) {
                    stderr.add(line);
                    if (line.contains("listening on")) {
                        listening.countDown();
                    }
                }
            } catch (IOException ignored) {
                // ended
            }
        });
    }

    /**
     * Starts {@code tcpdump -i lo -U -w FILE FILTER} (packet-buffered, full packets, a 64 MiB kernel buffer so bursts of 64 KiB loopback
     * segments are not dropped, no
     * privilege drop so it can write where root can) and waits until it is listening.
     */
    static Tcpdump record(Path file, String filter) throws Exception {
        List<String> command = List.of("tcpdump", "-i", "lo", "-n", "--immediate-mode", "-U", "-s", "0", "-B", "65536", "-Z", "root",
                "-w", file.toString(), filter);
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        Tcpdump t = new Tcpdump(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!t.listening.await(100, TimeUnit.MILLISECONDS)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                t.close();
                fail("tcpdump did not start listening: " + String.join("\n", t.stderr));
            }
        }
        return t;
    }

    /**
     * Makes sure every packet sent so far is in the file, then stops the capture. Packets on
     * {@code lo} are captured in the order they are sent, so once the FIN of a last, empty
     * connection to {@code server} (which must be one the filter matches, and listening) is in
     * the file, everything before it is too. Empty connections make no record.
     */
    List<String> stopAfterSentinel(InetSocketAddress server, Path file) throws Exception {
        int port;
        try (Socket sentinel = new Socket()) {
            sentinel.connect(server, 5_000);
            port = sentinel.getLocalPort();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!finFrom(file, port)) {
            assertTrue(System.nanoTime() < deadline, "the sentinel connection's FIN reached " + file);
            Thread.sleep(50);
        }
        return stop();
    }

    private static boolean finFrom(Path file, int port) {
        try (PcapReader reader = new PcapReader(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            Segment s;
            while ((s = reader.next()) != null) {
                if (s.srcPort() == port && s.has(Segment.FIN)) {
                    return true;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false; // being written: a packet may be cut at the end; try again
        }
    }

    /** Stops the capture with SIGINT (tcpdump then writes out what it has) and checks nothing was dropped. */
    List<String> stop() throws Exception {
        interrupt(process.pid());
        assertTrue(process.waitFor(20, TimeUnit.SECONDS), "tcpdump ended after SIGINT");
        errReader.join(5_000);
        assertEquals(0, process.exitValue(), "tcpdump exit code; stderr: " + stderr);
        List<String> lines = List.copyOf(stderr);
        assertTrue(lines.contains("0 packets dropped by kernel"), "tcpdump dropped nothing: " + lines);
        return lines;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy(); // ours, by its handle
        }
    }

    // ---------------------------------------------------------------- helpers shared by the ITs

    /** SIGINT to one process this test started (by PID, never by name). */
    static void interrupt(long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(pid)).start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -INT " + pid);
    }

    /**
     * Ctrl-C for a tracer started by {@link TracerProcess#start}: the launcher execs java, so
     * the process is the JVM itself (or, behind a pipeline, one of its descendants).
     */
    static void interrupt(TracerProcess tracer) throws Exception {
        ProcessHandle self = ProcessHandle.of(tracer.pid()).orElseThrow();
        ProcessHandle java = isJava(self) ? self
                : self.descendants().filter(Tcpdump::isJava).findFirst().orElseThrow();
        interrupt(java.pid());
    }

    private static boolean isJava(ProcessHandle h) {
        return h.info().command().map(c -> c.endsWith("/java")).orElse(false);
    }

    /** Waits (bounded) until the tracer has written at least {@code n} lines. */
    static void awaitLines(TracerProcess tracer, int n, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (tracer.stdout().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /** {@code ./httptrace -r FILE}: its lines, each checked against the schema; fails unless it exits 0. */
    static List<String> readCapture(Path file) throws Exception {
        try (TracerProcess offline = TracerProcess.start("-r " + file, "")) {
            assertEquals(0, offline.waitFor(120), "httptrace -r exit code; stderr: " + offline.stderr());
            List<String> lines = offline.stdout();
            lines.forEach(SchemaValidator::assertValid);
            return lines;
        }
    }

    static List<JsonNode> parse(List<String> lines) {
        List<JsonNode> out = new ArrayList<>();
        for (String l : lines) {
            try {
                out.add(SchemaValidator.MAPPER.readTree(l));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** Runs a command to its end (bounded), returning stdout; fails with stderr on a non-zero exit. */
    static String run(List<String> command, long seconds) throws Exception {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        Thread o = Thread.ofPlatform().daemon().start(() -> copy(p.getInputStream(), out));
        Thread e = Thread.ofPlatform().daemon().start(() -> copy(p.getErrorStream(), err));
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroy(); // ours, by its handle
            fail(command.getFirst() + " did not finish within " + seconds + " s");
        }
        o.join(10_000);
        e.join(10_000);
        assertEquals(0, p.exitValue(), command + " failed: " + err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void copy(InputStream in, ByteArrayOutputStream to) {
        try (in) {
            in.transferTo(to);
        } catch (IOException ignored) {
            // ended
        }
    }
}
