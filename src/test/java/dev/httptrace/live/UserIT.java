package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** --user: root only to attach the filter; then an ordinary user with no capabilities that goes on tracing. */
class UserIT {

    @Test
    void afterAttachingTheTracerRunsAsTheUserWithNoCapabilitiesAndKeepsReporting() throws Exception {
        Live.requireRoot();
        try (var server = new TestServer("127.0.0.1");
             var tracer = TracerProcess.start("-i lo -p " + server.port() + " -d 60s --user nobody", "")) {
            tracer.awaitTracing();
            assertTrue(tracer.stderr().get(0).contains(", as user nobody;"), tracer.stderr().toString());
            ProcessHandle java = tracer.java();

            // Every thread of the JVM, not only the one that called setuid.
            List<Path> tasks = new ArrayList<>();
            try (var dirs = Files.list(Path.of("/proc", Long.toString(java.pid()), "task"))) {
                dirs.forEach(tasks::add);
            }
            assertTrue(tasks.size() > 1, "a JVM has several threads: " + tasks);
            for (Path task : tasks) {
                Map<String, String> status = status(task.resolve("status"));
                assertEquals("65534\t65534\t65534\t65534", status.get("Uid"), task + ": real, effective, saved, fs uid");
                assertEquals("65534\t65534\t65534\t65534", status.get("Gid"), task.toString());
                assertEquals("65534", status.get("Groups").strip(), task + ": nobody's groups only");
                for (String caps : List.of("CapInh", "CapPrm", "CapEff", "CapAmb")) {
                    assertEquals("0000000000000000", status.get(caps), task + " " + caps);
                }
            }

            LauncherIT.curl(server.uri("/hello").toString());
            LauncherIT.curl(server.uri("/missing").toString());
            LauncherIT.waitForLines(tracer, 2);
            new ProcessBuilder("kill", "-INT", Long.toString(java.pid())).start().waitFor();
            assertEquals(0, tracer.waitFor(20), "stderr: " + tracer.stderr());

            var records = LauncherIT.parse(tracer.stdout());
            assertEquals(2, records.size(), tracer.stdout().toString());
            LauncherIT.assertExchange(records.get(0), "GET", "/hello", 200, "127.0.0.1", server.port());
            LauncherIT.assertExchange(records.get(1), "GET", "/missing", 404, "127.0.0.1", server.port());
            // The kernel's counters are still read after the switch (the summary is not all zeros).
            String summary = tracer.stderr().stream().filter(l -> l.contains(" packets, ")).findFirst().orElseThrow();
            assertTrue(summary.matches("httptrace: [1-9]\\d* packets, [1-9]\\d* segments captured, .*2 exchanges.*"), summary);
        }
    }

    private static Map<String, String> status(Path file) throws Exception {
        Map<String, String> fields = new TreeMap<>();
        for (String line : Files.readAllLines(file)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                fields.put(line.substring(0, colon), line.substring(colon + 1).strip());
            }
        }
        return fields;
    }
}
