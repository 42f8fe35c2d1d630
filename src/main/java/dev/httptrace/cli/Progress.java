package dev.httptrace.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of reading a capture file ({@code -r}), redrawn on one stderr line at most
 * every {@value #EVERY_MILLIS} ms and erased at the end; shown only when stderr is a terminal.
 */
final class Progress {
    private static final long EVERY_MILLIS = 250;

    private final PrintStream err;
    private final String name;
    private final long totalBytes;
    private long bytesRead;
    // The first update draws at once; later ones at most every EVERY_MILLIS.
    private long lastDrawn = System.nanoTime() - EVERY_MILLIS * 1_000_000L;
    private boolean drawn;

    /** @param totalBytes the file's size, or -1 when unknown (stdin, a pipe) */
    Progress(PrintStream err, String name, long totalBytes) {
        this.err = err;
        this.name = name;
        this.totalBytes = totalBytes;
    }

    /** Counts the bytes read through it. */
    InputStream counting(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    bytesRead++;
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    bytesRead += n;
                }
                return n;
            }
        };
    }

    /** Redraws the line when it is time. */
    void update(long packets) {
        long now = System.nanoTime();
        if (now - lastDrawn < EVERY_MILLIS * 1_000_000L) {
            return;
        }
        lastDrawn = now;
        drawn = true;
        String done = totalBytes > 0
                ? String.format(Locale.ROOT, "%d%% (%d of %d MB), ", Math.min(100, bytesRead * 100 / totalBytes),
                        bytesRead >> 20, totalBytes >> 20)
                : String.format(Locale.ROOT, "%d MB, ", bytesRead >> 20);
        err.print("\rhttptrace: reading " + name + ": " + done + packets + " packets\u001b[K");
        err.flush();
    }

    /** Erases the line. */
    void finish() {
        if (drawn) {
            err.print("\r\u001b[K");
            err.flush();
        }
    }
}
