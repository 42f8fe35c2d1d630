package dev.httptrace.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * --ready-file: a file that appears once the filter is attached, so a script can start
 * the tracer in the background and wait for it before it sends traffic. It holds the
 * tracer's PID. Written to a temporary file beside it and renamed, so whoever sees the
 * file sees all of it; a file left by an earlier run is removed at start.
 */
final class ReadyFile {
    private final Path path;

    private ReadyFile(Path path) {
        this.path = path;
    }

    /** Checks the path can be written and removes a stale file; the message says why not. */
    static ReadyFile prepare(String name) throws IOException {
        Path path = Path.of(name).toAbsolutePath();
        Path dir = path.getParent();
        if (!Files.isDirectory(dir)) {
            throw new IOException("no directory " + dir);
        }
        if (!Files.isWritable(dir)) {
            throw new IOException("directory " + dir + " is not writable");
        }
        if (Files.isDirectory(path)) {
            throw new IOException(path + " is a directory");
        }
        Files.deleteIfExists(path);
        return new ReadyFile(path);
    }

    void write() throws IOException {
        Path tmp = Files.createTempFile(path.getParent(), "." + path.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--")); // a non-root script reads it
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Undoes write when the tracer fails right after it (it is not ready after all). */
    void remove() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // best effort: the process is failing anyway
        }
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
