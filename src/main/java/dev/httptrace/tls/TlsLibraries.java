package dev.httptrace.tls;

import dev.httptrace.capture.TlsCapture;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds what to probe and says what it did: the system's libssl, every libssl mapped by a
 * running process, and executables that export the OpenSSL API themselves (node). Each file
 * is probed once (by device and inode) for all processes, so programs started later are
 * covered; {@link #scan} run every few seconds picks up libraries loaded later. Libraries of
 * other TLS stacks are named as not supported, so an empty trace is never a silent one.
 */
public final class TlsLibraries {

    /** Where Debian and other distributions keep the system's libssl. */
    private static final List<String> SYSTEM_LIBSSL = List.of(
            "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/aarch64-linux-gnu/libssl.so.3",
            "/usr/lib64/libssl.so.3", "/usr/lib/libssl.so.3",
            "/usr/lib/x86_64-linux-gnu/libssl.so.1.1", "/usr/lib64/libssl.so.1.1", "/usr/lib/libssl.so.1.1");
    private static final Pattern OPENSSL_VERSION = Pattern.compile("OpenSSL (\\d+\\.\\d+\\.\\d+[a-z]?)");
    private static final Path PROC = Path.of("/proc");

    private record FileId(Object dev, Object ino) {}

    /** A file found in a scan and the processes that map it. */
    private static final class Found {
        final String path;      // as the process sees it
        final Path openPath;    // through /proc/PID/root, so files inside containers open too
        final Set<String> users = new TreeSet<>();
        final boolean executable;

        Found(String path, Path openPath, boolean executable) {
            this.path = path;
            this.openPath = openPath;
            this.executable = executable;
        }
    }

    private final TlsCapture capture;
    private final Consumer<String> report;
    private final Set<FileId> done = new HashSet<>();
    private int attached;

    /** @param report told one line per file attached or skipped (for stderr) */
    public TlsLibraries(TlsCapture capture, Consumer<String> report) {
        this.capture = capture;
        this.report = report;
    }

    /** Files probed so far. */
    public int attached() { return attached; }

    /**
     * Probes a file the user named (--tls-lib). Returns null when done, else why not.
     */
    public String attachExplicit(String path) {
        Path p = Path.of(path);
        FileId id = id(p);
        if (id == null) return "cannot read " + path;
        if (done.contains(id)) return null;
        TlsCapture.Attached a = capture.attach(p.toAbsolutePath().toString());
        if (!a.ok()) return a.error() != null ? a.error() : "cannot probe " + path;
        done.add(id);
        attached++;
        report.accept("attached " + path + " (" + describe(p, a.functions()) + "; named by --tls-lib)");
        return null;
    }

    /** Looks at the system's libssl and every running process; probes what is new. */
    public void scan() {
        Map<FileId, Found> found = new LinkedHashMap<>();
        for (String lib : SYSTEM_LIBSSL) {
            Path p = Path.of(lib);
            FileId id = id(p);
            if (id != null && !done.contains(id)) found.putIfAbsent(id, new Found(lib, p, false));
        }
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, "[0-9]*")) {
            for (Path dir : dirs) {
                if (dir.getFileName().toString().equals(Long.toString(self))) continue;
                scanProcess(dir, found);
            }
        } catch (IOException e) {
            report.accept("cannot list /proc: " + e.getMessage());
        }
        for (Map.Entry<FileId, Found> e : found.entrySet()) {
            done.add(e.getKey());
            consider(e.getValue());
        }
    }

    private void scanProcess(Path dir, Map<FileId, Found> found) {
        String pid = dir.getFileName().toString();
        String user;
        List<String> maps;
        try {
            user = Files.readString(dir.resolve("comm")).strip() + "[" + pid + "]";
            maps = Files.readAllLines(dir.resolve("maps"), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return; // gone, or a kernel thread
        }
        Set<String> paths = new HashSet<>();
        for (String line : maps) {
            int slash = line.indexOf('/');
            if (slash < 0 || line.endsWith(" (deleted)")) continue;
            String path = line.substring(slash);
            String name = path.substring(path.lastIndexOf('/') + 1);
            if (name.startsWith("libssl.so") || name.startsWith("libgnutls.so") || name.startsWith("libnss3.so")) {
                paths.add(path);
            }
        }
        try {
            paths.add(Files.readSymbolicLink(dir.resolve("exe")).toString());
        } catch (IOException | RuntimeException e) {
            // a kernel thread, or gone
        }
        for (String path : paths) {
            Path open = dir.resolve("root").resolve(path.substring(1));
            FileId id = id(open);
            if (id == null || done.contains(id)) continue;
            String name = path.substring(path.lastIndexOf('/') + 1);
            boolean library = name.startsWith("libssl.so") || name.startsWith("libgnutls.so") || name.startsWith("libnss3.so");
            found.computeIfAbsent(id, k -> new Found(path, open, !library)).users.add(user);
        }
    }

    private void consider(Found f) {
        String name = f.path.substring(f.path.lastIndexOf('/') + 1);
        String users = f.users.isEmpty() ? "" : "used by " + String.join(", ", f.users);
        if (name.startsWith("libgnutls.so")) {
            report.accept("skipped " + f.path + " (" + users + "): GnuTLS is not supported");
            return;
        }
        if (name.startsWith("libnss3.so")) {
            report.accept("skipped " + f.path + " (" + users + "): NSS is not supported");
            return;
        }
        if (f.executable && isGo(f.openPath)) {
            report.accept("skipped " + f.path + " (" + users + "): a Go program; Go's crypto/tls is not supported");
            return;
        }
        TlsCapture.Attached a = capture.attach(f.openPath.toString());
        if (a.ok()) {
            attached++;
            report.accept("attached " + f.path + " (" + describe(f.openPath, a.functions())
                    + (users.isEmpty() ? "" : "; " + users) + ")");
        } else if (!f.executable) {
            report.accept("skipped " + f.path + " (" + users + "): " + a.error());
        }
        // An executable without the OpenSSL API is most programs: nothing to say.
    }

    /** "OpenSSL 3.0.19; SSL_read SSL_write ...": the version (when found) and the functions probed. */
    private static String describe(Path file, int functions) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < TlsCapture.FUNCTIONS.length; i++) {
            if ((functions & (1 << i)) != 0) names.add(TlsCapture.FUNCTIONS[i]);
        }
        String version = version(file);
        return (version == null ? "OpenSSL API" : "OpenSSL " + version) + "; " + String.join(" ", names);
    }

    /** OpenSSL's version string, from the library or the libcrypto beside it; null when not found. */
    static String version(Path file) {
        List<Path> candidates = new ArrayList<>(List.of(file));
        String name = file.getFileName().toString();
        if (name.startsWith("libssl.so")) candidates.add(file.resolveSibling("libcrypto" + name.substring(6)));
        for (Path p : candidates) {
            try {
                if (Files.size(p) > 64L << 20) continue;
                Matcher m = OPENSSL_VERSION.matcher(new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1));
                if (m.find()) return m.group(1);
            } catch (IOException | RuntimeException e) {
                // not readable: no version to show
            }
        }
        return null;
    }

    /** A Go program: the Go build ID note sits near the start of the file. */
    static boolean isGo(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(8192);
            return new String(head, StandardCharsets.ISO_8859_1).contains("Go build ID:");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static FileId id(Path p) {
        try {
            return new FileId(Files.getAttribute(p, "unix:dev"), Files.getAttribute(p, "unix:ino"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
