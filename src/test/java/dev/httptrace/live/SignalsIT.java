package dev.httptrace.live;

import static dev.httptrace.live.LauncherIT.curl;
import static dev.httptrace.live.LauncherIT.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 21: every catchable terminating signal ends a live trace the way Ctrl-C does:
 * every record written, the summary on stderr, the verdict as exit code; nothing but
 * records on stdout (SIGQUIT was a JVM thread dump there, and the trace went on; SIGHUP
 * was exit 129, no summary and records lost).
 */
class SignalsIT {

    @TempDir
    Path dir;

    @BeforeEach
    void root() {
        Live.requireRoot();
    }

    @ParameterizedTest(name = "SIG{0}")
    @ValueSource(strings = {"HUP", "INT", "QUIT", "TERM", "USR1", "ALRM"})
    void signalEndsTheTraceWithEveryRecordTheSummaryAndTheVerdict(String signal) throws Exception {
        try (var server = new TestServer("127.0.0.1");
             var tracer = TracerProcess.start("-i lo -p " + server.port() + " --fail-on 4xx --expect 3 -d 60s", "")) {
            tracer.awaitTracing();
            for (int i = 0; i < 3; i++) {
                curl(server.uri("/hello").toString());
            }
            curl(server.uri("/missing").toString());
            awaitRecords(tracer, 4);
            kill(signal, tracer.java().pid());
            assertEquals(8, tracer.waitFor(20), "the --fail-on verdict; stderr: " + tracer.stderr());
            List<JsonNode> records = parse(tracer.stdout()); // every line a record: no thread dump
            assertEquals(4, records.size(), "records: " + tracer.stdout());
            for (JsonNode r : records) {
                assertTrue(r.at("/http/response/status_code").isNumber(), r.toString());
            }
            assertTrue(tracer.stderr().contains("httptrace: 4 written: 2xx 3, 3xx 0, 4xx 1, 5xx 0, unanswered 0"),
                    "summary: " + tracer.stderr());
            assertTrue(tracer.stderr().contains("httptrace: 1 exchange with status 4xx (--fail-on)"),
                    tracer.stderr().toString());
            assertFalse(String.join("\n", tracer.stderr()).contains("thread dump"), tracer.stderr().toString());
        }
    }

    /** The command: SIGHUP right after the last request, records still in the rings. */
    @Test
    void sighupRightAfterTheTrafficLosesNoRecord() throws Exception {
        Path out = dir.resolve("hup.jsonl");
        try (var server = new TestServer("127.0.0.1");
             var tracer = TracerProcess.start("-i lo -p " + server.port() + " --expect 5 --fail-on 5xx -o " + out
                     + " -d 60s", "")) {
            tracer.awaitTracing();
            for (int i = 0; i < 10; i++) {
                curl(server.uri("/hello").toString());
            }
            kill("HUP", tracer.java().pid()); // no wait: what the tracer has not read yet must not be lost
            assertEquals(0, tracer.waitFor(20), "verdict passed; stderr: " + tracer.stderr());
            assertEquals(10, parse(Files.readAllLines(out)).size(), "every record in the file");
            assertTrue(tracer.stderr().contains("httptrace: 10 written: 2xx 10, 3xx 0, 4xx 0, 5xx 0, unanswered 0"),
                    "summary: " + tracer.stderr());
        }
    }

    /** nohup ignores SIGHUP on purpose: it stays ignored; SIGTERM still ends the trace cleanly. */
    @Test
    void sighupIgnoredAtStartStaysIgnored() throws Exception {
        try (var tracer = new TracerProcess(List.of("bash", "-c",
                "trap '' HUP; exec " + Live.launcher() + " -i lo -p 9 -d 60s"))) {
            tracer.awaitTracing();
            long pid = tracer.java().pid();
            kill("HUP", pid);
            // Still tracing: the summary comes only after SIGTERM (a HUP that stopped it would be
            // seen as the process ending within the wait below).
            assertFalse(tracer.endsWithin(1), "SIGHUP ignored; stderr: " + tracer.stderr());
            kill("TERM", pid);
            assertEquals(0, tracer.waitFor(20), "stderr: " + tracer.stderr());
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.contains("exchanges")), tracer.stderr().toString());
        }
    }

    /** A script's background job starts with SIGQUIT ignored (as SIGINT): it stops the trace anyway. */
    @Test
    void sigquitStopsATracerStartedInTheBackgroundOfAScript() throws Exception {
        try (var tracer = new TracerProcess(List.of("bash", "-c",
                Live.launcher() + " -i lo -p 9 -d 60s & pid=$!; wait $pid"))) {
            tracer.awaitTracing();
            kill("QUIT", tracer.java().pid());
            assertEquals(0, tracer.waitFor(20), "stderr: " + tracer.stderr());
            assertEquals(List.of(), tracer.stdout(), "nothing on stdout");
            assertTrue(tracer.stderr().stream().anyMatch(l -> l.contains("exchanges")), tracer.stderr().toString());
        }
    }

    private static void awaitRecords(TracerProcess tracer, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (tracer.stdout().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(n, tracer.stdout().size(), "records before the signal: " + tracer.stdout());
    }

    /** A signal to one process this test started (by PID, never by name). */
    static void kill(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + signal + " " + pid);
    }
}
