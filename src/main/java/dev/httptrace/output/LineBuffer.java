package dev.httptrace.output;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Collects whole output lines and hands them to the real stream in large writes.
 *
 * <p>A record is first written here; only a complete record is kept ({@link #commit}),
 * a failed one is dropped ({@link #rollback}), so the output never holds half a line.
 * Committed bytes go to the stream when more than {@link #DRAIN_AT} are pending or on
 * {@link #flush}; the stream itself is flushed only by {@link #flush}. A {@link PrintStream}
 * swallows I/O errors, so for one {@link #flush} checks {@link PrintStream#checkError()}
 * and reports a failure as an {@link IOException}.
 */
final class LineBuffer extends OutputStream {

    static final int DRAIN_AT = 64 * 1024;
    private static final int SHRINK_ABOVE = 1024 * 1024;

    private final OutputStream out;
    private byte[] buf = new byte[2 * DRAIN_AT];
    private int count;
    private int committed;

    LineBuffer(OutputStream out) {
        if (out == null) {
            throw new NullPointerException("out");
        }
        this.out = out;
    }

    @Override
    public void write(int b) {
        ensure(1);
        buf[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, buf, count, len);
        count += len;
    }

    private void ensure(int more) {
        if (count + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
        }
    }

    /** Everything written since the last commit or rollback; the JSON generator's flush lands here. */
    @Override
    public void flush() {
        // Nothing: the real stream is flushed by flushOut().
    }

    /** Keeps what was written since the last commit; drains to the stream when enough is pending. */
    void commit() {
        committed = count;
        if (committed >= DRAIN_AT) {
            try {
                drain();
            } catch (IOException e) {
                throw new UncheckedIOException(e); // writers' exchange() cannot throw checked
            }
        }
    }

    /** Forgets what was written since the last commit. */
    void rollback() {
        count = committed;
    }

    /** Writes the committed bytes to the stream and flushes it. */
    void flushOut() throws IOException {
        drain();
        out.flush();
        if (out instanceof PrintStream ps && ps.checkError()) {
            throw new IOException("error writing output (stream closed?)");
        }
    }

    private void drain() throws IOException {
        if (committed > 0) {
            int n = committed;
            int tail = count - committed;
            // Forget the bytes first: if the write fails they are gone, not written twice.
            count = 0;
            committed = 0;
            byte[] b = buf;
            if (tail > 0) {
                // Cannot happen from commit(); kept correct anyway.
                buf = new byte[Math.max(b.length, tail)];
                System.arraycopy(b, n, buf, 0, tail);
                count = tail;
            } else if (b.length > SHRINK_ABOVE) {
                buf = new byte[2 * DRAIN_AT];
            }
            out.write(b, 0, n);
            if (out instanceof PrintStream ps && ps.checkError()) {
                throw new IOException("error writing output (stream closed?)");
            }
        }
    }
}
