package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * httptrace run the way a user runs it: the ./httptrace launcher as a subprocess, its
 * stdout optionally piped through a shell pipeline (jq, head), stderr collected.
 */
final class TracerProcess implements AutoCloseable {
    private final Process process;
    private final List<String> stdout = Collections.synchronizedList(new ArrayList<>());
    private final List<String> stderr = Collections.synchronizedList(new ArrayList<>());
    private final CountDownLatch tracing = new CountDownLatch(1);
    private final Thread outReader;
    private final Thread errReader;

    /** Runs {@code ./httptrace ARGS | PIPE} under bash (PIPE may be empty: no pipe). */
    static TracerProcess start(String args, String pipe) {
        String command = "exec " + Live.launcher() + " " + args;
        if (!pipe.isEmpty()) {
            command = "set -o pipefail; " + Live.launcher() + " " + args + " | " + pipe;
        }
        return new TracerProcess(List.of("bash", "-c", command));
    }

    /** Runs an arbitrary command line (e.g. the launcher as another user). */
    TracerProcess(List<String> command) {
        this(command, Live.projectDir());
    }

    /** Runs a command line in a directory of its own (e.g. one that another user can enter). */
    TracerProcess(List<String> command, Path dir) {
        try {
            process = new ProcessBuilder(command).directory(dir.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            process.getOutputStream().close(); // no input: like CI's closed stdin
        } catch (IOException ignored) {
            // already closed
        }
        outReader = Thread.ofPlatform().daemon().start(() -> collect(process.inputReader(), stdout, false));
        errReader = Thread.ofPlatform().daemon().start(() -> collect(process.errorReader(), stderr, true));
    }

    private void collect(BufferedReader reader, List<String> lines, boolean watchForTracing) {
        try (reader) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
                if (watchForTracing && line.startsWith("httptrace: tracing on")) {
                    tracing.countDown();
                }
            }
        } catch (IOException ignored) {
            // process ended
        }
    }

    /** Waits for the "tracing on" line (the filter is attached); fails with stderr if it ends first. */
    void awaitTracing() throws InterruptedException {
        // The first run of the launcher may build the jar; allow for it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!tracing.await(100, TimeUnit.MILLISECONDS)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                fail("httptrace did not start tracing; exit " + (process.isAlive() ? "none" : process.exitValue())
                        + ", stderr:\n" + String.join("\n", stderr));
            }
        }
    }

    /**
     * Waits for the --ready-file (the filter is attached) where no "tracing on" line comes
     * (--stats json); fails with stderr if the process ends first.
     */
    void awaitReadyFile(Path file) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240); // may build first
        while (!java.nio.file.Files.isRegularFile(file)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                fail("no ready file " + file + "; exit " + (process.isAlive() ? "none" : process.exitValue())
                        + ", stderr:\n" + String.join("\n", stderr));
            }
            Thread.sleep(20);
        }
    }

    /** Waits for the process to end by itself and returns its exit code. */
    int waitFor(long seconds) throws InterruptedException {
        boolean ended = process.waitFor(seconds, TimeUnit.SECONDS);
        assertTrue(ended, "httptrace still running after " + seconds + " s; stderr:\n" + String.join("\n", stderr));
        outReader.join(5_000);
        errReader.join(5_000);
        return process.exitValue();
    }

    /** Whether the process ends within the time given (to show that it keeps running). */
    boolean endsWithin(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS);
    }

    /** Whether the process itself runs java now (the launcher has exec'd it). */
    boolean isJava() {
        return process.toHandle().info().command().map(c -> c.endsWith("/java")).orElse(false);
    }

    long pid() {
        return process.pid();
    }

    /** The tracer's JVM: the process itself (the launcher execs java) or one in its pipeline. */
    ProcessHandle java() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(process.toHandle()), process.descendants())
                .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no java process under " + process.pid()));
    }

    List<String> stdout() {
        return List.copyOf(stdout);
    }

    List<String> stderr() {
        return List.copyOf(stderr);
    }

    @Override
    public void close() {
        // Only our own process tree, by PID.
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
    }
}
