package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --ready-file: appears (whole, holding the PID) once the filter is attached; traffic sent then is traced. */
class ReadyFileIT {

    @Test
    void trafficSentOnceTheReadyFileExistsIsTraced(@TempDir Path dir) throws Exception {
        Live.requireRoot();
        Path ready = dir.resolve("ready");
        Files.writeString(ready, "stale, from an earlier run\n");
        try (var server = new TestServer("127.0.0.1");
             var tracer = TracerProcess.start("-i lo -p " + server.port() + " -c 1 -d 60s --ready-file " + ready, "")) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240); // may build first
            // A stale file is removed at start; wait for the one this run writes.
            while (!Files.exists(ready) || Files.readString(ready).startsWith("stale")) {
                assertTrue(System.nanoTime() < deadline, "no ready file; stderr: " + tracer.stderr());
                Thread.sleep(20);
            }
            assertEquals(tracer.java().pid() + "\n", Files.readString(ready));
            // Only the file itself: the temporary it was renamed from is gone.
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count());
            }
            LauncherIT.curl(server.uri("/hello").toString());
            assertEquals(0, tracer.waitFor(20), "stderr: " + tracer.stderr());
            assertEquals(1, tracer.stdout().size(), tracer.stdout().toString());
            assertTrue(tracer.stderr().get(0).startsWith("httptrace: tracing on lo"), "the line stays: " + tracer.stderr());
        }
    }

    /**
     * Issue 21: a stale file stayed visible while the JVM started (~680 ms), so a script polling
     * the path sent its traffic too early. The launcher removes it before it runs java.
     */
    @Test
    void aStaleReadyFileIsGoneBeforeTheJvmStarts(@TempDir Path dir) throws Exception {
        Live.requireRoot();
        Path ready = dir.resolve("ready");
        Path other = dir.resolve("ready=form");
        Files.writeString(ready, "stale, from an earlier run\n");
        Files.writeString(other, "stale, from an earlier run\n");
        for (String option : new String[] {"--ready-file " + ready, "--ready-file=" + other}) {
            Path file = option.contains("=") ? other : ready;
            try (var tracer = TracerProcess.start("-i lo -p 9 -d 60s " + option, "")) {
                // The launcher execs java: once the process is java, the stale file must be gone.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240); // may build first
                while (!tracer.isJava()) {
                    assertTrue(System.nanoTime() < deadline, "java never started; stderr: " + tracer.stderr());
                    Thread.sleep(2);
                }
                assertTrue(!Files.exists(file) || !Files.readString(file).startsWith("stale"),
                        option + ": the stale file is gone once java runs");
                tracer.awaitTracing();
                assertEquals(tracer.java().pid() + "\n", Files.readString(file));
                SignalsIT.kill("TERM", tracer.java().pid());
                assertEquals(0, tracer.waitFor(20), "stderr: " + tracer.stderr());
            }
        }
    }

    @Test
    void noReadyFileWhenTheTracerCannotStart(@TempDir Path dir) throws Exception {
        Path ready = dir.resolve("ready");
        try (var tracer = TracerProcess.start("-i nosuch0 --ready-file " + ready, "")) {
            assertEquals(4, tracer.waitFor(120));
            assertFalse(Files.exists(ready));
        }
    }
}
