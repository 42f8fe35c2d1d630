package dev.httptrace.live;

import static dev.httptrace.live.LauncherIT.curl;
import static dev.httptrace.live.LauncherIT.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's options on a live trace, through the launcher: --host filtered in the kernel,
 * -w written while tracing and read back with -r to the same records, --fail-on and
 * --expect decided when SIGTERM ends the run, --stats json.
 */
class FiltersIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void hostFilterInTheKernelPcapngReplaysToTheSameRecordsAndVerdictOnSigterm() throws Exception {
        Live.requireRoot();
        Path pcap = dir.resolve("live.pcapng");
        try (var wanted = new TestServer("127.0.0.2");
             var other = new TestServer("127.0.0.1");
             var v6 = new TestServer("::1");
             var tracer = TracerProcess.start("-i lo --host 127.0.0.2,::1/128 -w " + pcap
                     + " --fail-on 4xx --expect 3 --stats json -d 60s --ready-file " + dir.resolve("ready"), "")) {
            tracer.awaitReadyFile(dir.resolve("ready")); // --stats json: no "tracing on" line
            curl(wanted.uri("/hello").toString());
            curl(other.uri("/hello").toString());
            curl(other.uri("/missing").toString());
            curl(v6.uri("/hello").toString());
            curl(wanted.uri("/missing").toString());
            awaitLines(tracer, 3);
            new ProcessBuilder("kill", "-TERM", Long.toString(tracer.pid())).start().waitFor();
            assertEquals(8, tracer.waitFor(20), "--fail-on 4xx: stderr " + tracer.stderr());

            List<JsonNode> records = parse(tracer.stdout());
            assertEquals(List.of("127.0.0.2 /hello 200", "::1 /hello 200", "127.0.0.2 /missing 404"),
                    records.stream().map(r -> r.at("/server/address").asText() + " " + r.at("/url/path").asText() + " "
                            + r.at("/http/response/status_code").asInt()).toList(),
                    "only the hosts asked for");
            assertEquals(1, tracer.stderr().size(), "--stats json: stderr is the JSON summary alone: " + tracer.stderr());
            JsonNode stats = JSON.readTree(tracer.stderr().getLast());
            assertEquals(3, stats.get("exchanges").asInt(), stats.toString());
            assertEquals(1, stats.at("/status/4xx").asInt());
            assertEquals(8, stats.get("exit_code").asInt());
            assertTrue(stats.at("/capture/segments").asLong() > 0);
            assertEquals("[\"1 exchange with status 4xx (--fail-on)\"]", stats.at("/verdict/reasons").toString());

            // The pcapng holds what the kernel let through: read back, the same records.
            Process replay = new ProcessBuilder("bash", "-c", Live.launcher() + " -q -r " + pcap)
                    .directory(Live.projectDir().toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            replay.getOutputStream().close();
            List<String> replayed = new String(replay.getInputStream().readAllBytes()).lines().toList();
            assertTrue(replay.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, replay.exitValue());
            assertEquals(records, parse(replayed), "-r of the -w file gives the live records field for field");
        }
    }

    /**
     * Issue 21: several -i (one socket on all interfaces, the kernel filter keeps theirs), -i any,
     * and a tcpdump filter expression run in the kernel like -p.
     */
    @Test
    void severalInterfacesAnyAndAFilterExpression() throws Exception {
        Live.requireRoot();
        List<String> others = java.net.NetworkInterface.networkInterfaces().map(java.net.NetworkInterface::getName)
                .filter(n -> !n.equals("lo")).sorted().limit(2).toList();
        try (var server = new TestServer("127.0.0.1");
             var withLo = TracerProcess.start("-i " + others.getFirst() + " -i lo -p " + server.port(), "");
             var any = TracerProcess.start("-i any port " + server.port(), "");
             var without = TracerProcess.start("-i " + String.join(",", others) + " tcp port " + server.port(), "")) {
            withLo.awaitTracing();
            any.awaitTracing();
            without.awaitTracing();
            assertTrue(withLo.stderr().getFirst().startsWith("httptrace: tracing on " + others.getFirst() + ",lo, port "),
                    withLo.stderr().toString());
            curl(server.uri("/hello").toString());
            curl(server.uri("/hello").toString());
            Tcpdump.awaitLines(withLo, 2, 30);
            Tcpdump.awaitLines(any, 2, 30);
            for (var t : List.of(withLo, any, without)) {
                Tcpdump.interrupt(t);
                assertEquals(0, t.waitFor(30), t.stderr().toString());
            }
            assertEquals(2, withLo.stdout().size(), "lo is one of them");
            assertEquals(2, any.stdout().size());
            assertEquals(List.of(), without.stdout(), "none of " + others + " carries loopback traffic");
            assertTrue(withLo.stdout().stream().allMatch(l -> l.contains("\"interface\":\"lo\"")), withLo.stdout().toString());
        }
    }

    @Test
    void expectFailsWhenTooFewExchangesBeforeTheDuration() throws Exception {
        Live.requireRoot();
        try (var server = new TestServer("127.0.0.1");
             var tracer = TracerProcess.start("-i lo -p " + server.port() + " --expect 2 -d 3s", "")) {
            tracer.awaitTracing();
            curl(server.uri("/hello").toString());
            assertEquals(9, tracer.waitFor(30), "stderr " + tracer.stderr());
            assertTrue(tracer.stderr().contains("httptrace: expected at least 2 exchanges, saw 1 (--expect)"),
                    tracer.stderr().toString());
            assertEquals(1, tracer.stdout().size());
        }
    }

    private static void awaitLines(TracerProcess tracer, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (tracer.stdout().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(n, tracer.stdout().size(), "records: " + tracer.stdout());
    }
}
