package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Preconditions of the live tests (root, eBPF, real peers on loopback). Off CI without
 * root they are skipped with the reason; in CI (see {@link #ci()}) a missing capability fails them.
 */
public final class Live {
    private Live() {}

    public static void requireRoot() {
        if (isRoot()) {
            return;
        }
        String why = "live eBPF tests need root (run 'sudo make test')";
        requireOrFail(false, why);
    }

    /**
     * Whether this is a CI run: CI set to anything but empty, {@code false} or {@code 0}
     * (case-insensitive), as CI services set it ({@code true}, {@code 1}, {@code yes}).
     */
    public static boolean ci() {
        return ci(System.getenv("CI"));
    }

    static boolean ci(String value) {
        if (value == null) {
            return false;
        }
        String v = value.strip();
        return !v.isEmpty() && !v.equalsIgnoreCase("false") && !v.equals("0");
    }

    /**
     * A precondition of a test: when it does not hold, the test is skipped with the reason,
     * or in CI fails (a missing capability there is a failure, never a skip).
     */
    public static void requireOrFail(boolean holds, String why) {
        if (holds) {
            return;
        }
        if (ci()) {
            fail(why + ": CI=" + System.getenv("CI") + ", so this is a failure, not a skip");
        }
        Assumptions.abort(why);
    }

    static boolean isRoot() {
        try {
            var uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return Integer.valueOf(0).equals(uid);
        } catch (Exception e) {
            return false;
        }
    }

    /** Ends a server a test class started (by its process, with its children), waiting at most 10 s. */
    static void stop(Process server) throws InterruptedException {
        if (server == null) return;
        server.descendants().forEach(ProcessHandle::destroy);
        server.destroy();
        server.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Deletes a test class's temporary directory and everything in it. */
    static void deleteTree(Path dir) throws java.io.IOException {
        if (dir == null) return;
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static Path projectDir() {
        return Path.of(System.getProperty("httptrace.project.dir", ".")).toAbsolutePath();
    }

    static Path launcher() {
        return projectDir().resolve("httptrace");
    }
}
