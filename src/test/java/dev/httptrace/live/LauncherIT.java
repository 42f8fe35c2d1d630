package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ./httptrace launcher as a user runs it, with curl as the client and the JDK's
 * HttpServer as the server, on loopback only.
 */
class LauncherIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeEach
    void root() {
        Live.requireRoot();
    }

    @ParameterizedTest(name = "over {0}")
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void threeCurlRequestsGiveExactlyThreeJsonLinesThroughJq(String loopback) throws Exception {
        try (var server = new TestServer(loopback);
             var tracer = TracerProcess.start("-i lo -p " + server.port() + " -d 60s", "jq -c .")) {
            tracer.awaitTracing();
            curl(server.uri("/hello").toString());
            curl("-X", "POST", "--data-binary", "0123456789", server.uri("/items").toString());
            curl(server.uri("/missing?x=1").toString());
            // Ends at the duration unless killed; send SIGINT to the pipeline's tracer once all are out.
            waitForLines(tracer, 3);
            signal("INT", tracer);
            assertEquals(0, tracer.waitFor(20), "exit code; stderr: " + tracer.stderr());

            List<JsonNode> records = parse(tracer.stdout());
            assertEquals(3, records.size(), "records: " + tracer.stdout());
            assertExchange(records.get(0), "GET", "/hello", 200, loopback, server.port());
            assertExchange(records.get(1), "POST", "/items", 201, loopback, server.port());
            assertExchange(records.get(2), "GET", "/missing", 404, loopback, server.port());
            assertEquals("x=1", records.get(2).at("/url/query").asText());
            assertEquals(10, records.get(1).at("/http/request/body/size").asLong());
            assertEquals(5, records.get(0).at("/http/response/body/size").asLong());
            assertTrue(records.get(0).at("/user_agent/original").asText().startsWith("curl/"));
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.matches("httptrace: .*3 exchanges.*")),
                    "summary line on stderr: " + tracer.stderr());
        }
    }

    @Test
    void countStopsAfterNExchangesWithExitZero() throws Exception {
        try (var server = new TestServer("127.0.0.1");
             var tracer = TracerProcess.start("-i lo -p " + server.port() + " -c 2 -d 60s", "")) {
            tracer.awaitTracing();
            for (int i = 0; i < 3; i++) {
                curl(server.uri("/hello").toString());
            }
            assertEquals(0, tracer.waitFor(20));
            assertEquals(2, tracer.stdout().size(), "stdout: " + tracer.stdout());
        }
    }

    @Test
    void durationEndsTheTraceWithASummary() throws Exception {
        try (var tracer = TracerProcess.start("-i lo -p 9 -d 1s", "")) {
            tracer.awaitTracing();
            assertEquals(0, tracer.waitFor(20));
            assertEquals(List.of(), tracer.stdout());
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.contains("0 exchanges")), tracer.stderr().toString());
        }
    }

    @Test
    void closedStdoutEndsTheTracePromptlyAndDetaches() throws Exception {
        Set<Integer> before = loadedFilters();
        try (var server = new TestServer("127.0.0.1");
             var tracer = TracerProcess.start("-i lo -p " + server.port() + " -d 600s", "head -n 1")) {
            tracer.awaitTracing();
            // head exits after the first line; the next write hits a closed pipe. Only that
            // can end the trace within waitFor's 60 s: its duration is 600 s.
            for (int i = 0; i < 3; i++) {
                curl(server.uri("/hello").toString());
            }
            assertEquals(0, tracer.waitFor(60), "stderr: " + tracer.stderr());
            assertEquals(1, tracer.stdout().size());
            assertFilterReleased(before);
        }
    }

    @Test
    void sigtermEndsTheTraceWithASummaryAndExitZero() throws Exception {
        Set<Integer> before = loadedFilters();
        try (var tracer = TracerProcess.start("-i lo -d 60s", "")) {
            tracer.awaitTracing();
            assertTrue(!before.containsAll(loadedFilters()), "the tracer's filter is loaded while it traces");
            new ProcessBuilder("kill", "-TERM", Long.toString(tracer.pid())).start().waitFor();
            assertEquals(0, tracer.waitFor(10), "stderr: " + tracer.stderr());
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.contains("exchanges")), tracer.stderr().toString());
            assertFilterReleased(before);
        }
    }

    @Test
    void sigintStopsATracerStartedInTheBackgroundOfAScript() throws Exception {
        // A non-interactive shell starts background jobs with SIGINT ignored: check that this
        // shell really does, so the test stands for that case.
        Process probe = new ProcessBuilder("bash", "-c", "grep ^SigIgn: /proc/self/status & wait").start();
        String sigIgn = new String(probe.getInputStream().readAllBytes()).strip();
        assertEquals(0, probe.waitFor());
        assertTrue((Long.parseLong(sigIgn.substring("SigIgn:".length()).strip(), 16) & 0x2) != 0,
                "background jobs start with SIGINT ignored: " + sigIgn);

        Set<Integer> before = loadedFilters();
        try (var tracer = new TracerProcess(List.of("bash", "-c",
                Live.launcher() + " -i lo -d 60s & pid=$!; wait $pid"))) {
            tracer.awaitTracing();
            new ProcessBuilder("kill", "-INT", Long.toString(tracer.java().pid())).start().waitFor();
            assertEquals(0, tracer.waitFor(10), "stopped by SIGINT, exit 0; stderr: " + tracer.stderr());
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.contains("exchanges")), "summary: " + tracer.stderr());
            assertFilterReleased(before);
        }
    }

    /**
     * {@code timeout -s INT}: its timer must not run out before the tracer is ready (the
     * launcher may build, the JVM start and the filter load slowly on a busy machine), so the
     * timeout is long and is made to expire once tracing is on: SIGALRM is how timeout's own
     * timer ends, and timeout then sends the child its signal (SIGINT) exactly as at expiry.
     */
    @Test
    void timeoutWithSigintStopsTheTraceWithASummaryAndExitZero() throws Exception {
        try (var tracer = new TracerProcess(List.of("timeout", "-s", "INT", "--preserve-status", "600s",
                Live.launcher().toString(), "-i", "lo", "-d", "900s"))) {
            tracer.awaitTracing();
            new ProcessBuilder("kill", "-ALRM", Long.toString(tracer.pid())).start().waitFor();
            assertEquals(0, tracer.waitFor(30), "stderr: " + tracer.stderr());
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.contains("exchanges")), "summary: " + tracer.stderr());
        }
    }

    static void assertExchange(JsonNode r, String method, String path, int status, String address, int serverPort) {
        assertEquals(method, r.at("/http/request/method").asText(), r.toString());
        assertEquals(path, r.at("/url/path").asText(), r.toString());
        assertEquals(status, r.at("/http/response/status_code").asInt(), r.toString());
        assertEquals(serverPort, r.at("/server/port").asInt(), r.toString());
        assertEquals(address, r.at("/server/address").asText());
        assertEquals(address, r.at("/client/address").asText());
        assertTrue(r.at("/client/port").asInt() > 0);
        assertEquals(address.contains(":") ? "ipv6" : "ipv4", r.at("/network/type").asText());
        assertEquals("1.1", r.at("/network/protocol/version").asText());
        assertEquals("lo", r.at("/httptrace/interface").asText());
        assertTrue(r.at("/event/duration").asLong() > 0, "latency measured: " + r);
    }

    static List<JsonNode> parse(List<String> lines) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : lines) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    static void curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "-g", "-o", "/dev/null", "--max-time", "10"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(15, TimeUnit.SECONDS), "curl finished");
        assertEquals(0, p.exitValue(), "curl " + command + ": " + out);
    }

    static void waitForLines(TracerProcess tracer, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (tracer.stdout().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /** Sends a signal to the java process of a pipeline started by TracerProcess (ours, by PID). */
    static void signal(String name, TracerProcess tracer) throws Exception {
        var java = ProcessHandle.of(tracer.pid()).orElseThrow().descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().orElseThrow();
        new ProcessBuilder("kill", "-" + name, Long.toString(java.pid())).start().waitFor();
    }

    /** IDs of the httptrace socket filters loaded in the kernel now (any process's). */
    static Set<Integer> loadedFilters() throws Exception {
        Process p = new ProcessBuilder("bpftool", "-j", "prog", "show").redirectErrorStream(true).start();
        JsonNode programs = JSON.readTree(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "bpftool finished");
        Set<Integer> ids = new HashSet<>();
        for (JsonNode prog : programs) {
            if (prog.path("type").asText().equals("socket_filter") && prog.path("name").asText().startsWith("httptrace_filt")) {
                ids.add(prog.path("id").asInt());
            }
        }
        return ids;
    }

    /**
     * The filter the tracer loaded is gone once it exited: closing its socket detached it and
     * the kernel freed it. Filters that were there before (other tracers) do not count; the
     * kernel frees a program shortly after its last user, so allow it a few seconds.
     */
    static void assertFilterReleased(Set<Integer> before) throws Exception {
        Set<Integer> left = new HashSet<>();
        for (int attempt = 0; attempt < 50; attempt++) {
            left = loadedFilters();
            left.removeAll(before);
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(200);
        }
        assertEquals(Set.of(), left, "httptrace socket filters left in the kernel");
    }
}
