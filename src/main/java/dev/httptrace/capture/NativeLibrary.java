package dev.httptrace.capture;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Finds the shim (libhttptrace.so, the BPF object embedded in it) and opens it.
 *
 * <p>An explicit path in the system property {@value #PATH_PROPERTY} wins; otherwise the
 * copy inside the jar is extracted to a temporary file, loaded, and the file deleted
 * (the loaded mapping stays valid).
 */
final class NativeLibrary {

    static final String PATH_PROPERTY = "httptrace.native.lib";
    private static final String RESOURCE = "/native/libhttptrace.so";

    private NativeLibrary() {}

    private static SymbolLookup loaded;

    /** Loads the shim once; both halves (socket filter and TLS) bind to the same copy. */
    static synchronized SymbolLookup load() throws CaptureException {
        if (loaded == null) {
            loaded = loadOnce();
        }
        return loaded;
    }

    private static SymbolLookup loadOnce() throws CaptureException {
        String explicit = System.getProperty(PATH_PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            Path path = Path.of(explicit);
            if (!Files.isReadable(path)) {
                throw new CaptureException(CaptureException.Reason.NATIVE_LIBRARY,
                        "native library " + path + " (from -D" + PATH_PROPERTY + ") is not readable");
            }
            return open(path);
        }
        try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new CaptureException(CaptureException.Reason.NATIVE_LIBRARY,
                        "the native library is missing from this build: build with 'make' (not 'mvn' alone)");
            }
            Path tmp = Files.createTempFile("libhttptrace-", ".so");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                return open(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new CaptureException(CaptureException.Reason.NATIVE_LIBRARY,
                    "cannot extract the native library: " + e.getMessage());
        }
    }

    private static SymbolLookup open(Path path) throws CaptureException {
        try {
            return SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException e) {
            // dlopen failed: most often libbpf1 (a run-time dependency) is not installed.
            throw new CaptureException(CaptureException.Reason.NATIVE_LIBRARY,
                    "cannot load the native library (is libbpf1 installed? 'make deps' installs it): "
                            + e.getMessage());
        }
    }
}
