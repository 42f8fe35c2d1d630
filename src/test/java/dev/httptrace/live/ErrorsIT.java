package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a user sees when something is wrong: one clear line and a documented exit code. */
class ErrorsIT {

    @Test
    void unknownInterfaceNamesTheOnesThatExist() throws Exception {
        try (var tracer = TracerProcess.start("-i nosuch0", "")) {
            assertEquals(4, tracer.waitFor(120));
            assertEquals(List.of(), tracer.stdout());
            assertEquals(1, tracer.stderr().size(), "one line: " + tracer.stderr());
            String line = lastLine(tracer);
            assertTrue(line.startsWith("httptrace: no interface named 'nosuch0' (interfaces: "), line);
            assertTrue(line.contains("lo"), line);
        }
    }

    @Test
    void badOptionPrintsUsageHintAndExitsTwo() throws Exception {
        try (var tracer = TracerProcess.start("--port 70000", "")) {
            assertEquals(2, tracer.waitFor(120));
            assertTrue(tracer.stderr().contains("httptrace: invalid port 70000 (1 to 65535)"), tracer.stderr().toString());
        }
        try (var tracer = TracerProcess.start("--frobnicate", "")) {
            assertEquals(2, tracer.waitFor(120));
            assertTrue(tracer.stderr().get(0).startsWith("httptrace: Unknown option: '--frobnicate'"), tracer.stderr().toString());
        }
    }

    @Test
    void nonRootUserIsToldToRunAsRoot() throws Exception {
        Live.requireRoot(); // to become another user we must be root first
        // setpriv drops to 'nobody' with no capabilities; the launcher only reads the built jar.
        var command = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=-all", Live.launcher().toString(), "-i", "lo");
        try (var tracer = new TracerProcess(command)) {
            assertEquals(3, tracer.waitFor(60), "stderr: " + tracer.stderr());
            assertEquals(List.of(), tracer.stdout());
            assertEquals(1, tracer.stderr().size(), "one line: " + tracer.stderr());
            String line = lastLine(tracer);
            assertTrue(line.startsWith("httptrace: ") && line.contains("run as root"), line);
        }
    }

    @Test
    void helpAndVersion() throws Exception {
        try (var tracer = TracerProcess.start("--help", "")) {
            assertEquals(0, tracer.waitFor(120));
            String help = String.join("\n", tracer.stdout());
            assertTrue(help.contains("--iface") && help.contains("Exit codes") && help.contains("jq"), help);
        }
        try (var tracer = TracerProcess.start("-V", "")) {
            assertEquals(0, tracer.waitFor(120));
            assertTrue(tracer.stdout().get(0).matches("httptrace \\d+\\.\\d+\\.\\d+.*"), tracer.stdout().toString());
        }
    }

    private static String lastLine(TracerProcess tracer) {
        List<String> err = tracer.stderr();
        assertTrue(!err.isEmpty(), "a message on stderr");
        return err.get(err.size() - 1);
    }
}
