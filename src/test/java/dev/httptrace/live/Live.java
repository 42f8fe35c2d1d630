package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Preconditions of the live tests (root, eBPF, real peers on loopback). Off CI without
 * root they are skipped with the reason; under CI=true a missing capability fails them.
 */
public final class Live {
    private Live() {}

    public static void requireRoot() {
        if (isRoot()) {
            return;
        }
        String why = "live eBPF tests need root (run 'sudo make test')";
        if ("true".equals(System.getenv("CI"))) {
            fail(why + ": CI=true, so this is a failure, not a skip");
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

    static Path projectDir() {
        return Path.of(System.getProperty("httptrace.project.dir", ".")).toAbsolutePath();
    }

    static Path launcher() {
        return projectDir().resolve("httptrace");
    }
}
