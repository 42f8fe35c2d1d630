package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * httptrace as 'make install DESTDIR=... PREFIX=/usr/local' lays it out, in a temporary
 * directory that every user can enter: so the tests run the installed launcher, and
 * run httptrace as another user wherever the checkout lives (a 0700 home too).
 * Installed once per test JVM, removed when it exits.
 */
final class Installed {
    static final String PREFIX = "/usr/local";
    private static Path destdir;

    private Installed() {}

    static synchronized Path destdir() {
        if (destdir == null) {
            destdir = install();
        }
        return destdir;
    }

    static Path root() {
        return destdir().resolve(PREFIX.substring(1));
    }

    static Path launcher() {
        return root().resolve("bin/httptrace");
    }

    private static Path install() {
        try {
            Path dir = Files.createTempDirectory("httptrace-install-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
            Process make = new ProcessBuilder("make", "-s", "-C", Live.projectDir().toString(), "install",
                    "DESTDIR=" + dir, "PREFIX=" + PREFIX).redirectErrorStream(true).start();
            make.getOutputStream().close();
            String out = new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(make.waitFor(300, TimeUnit.SECONDS), "make install finished");
            assertEquals(0, make.exitValue(), "make install: " + out);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at exit
        }
    }
}
