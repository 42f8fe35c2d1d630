package dev.httptrace.cli;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.function.BooleanSupplier;

/**
 * A capture read from a pipe (`tcpdump -U -w - | httptrace -r -`, a live capture over ssh):
 * before it waits for more input it calls {@code idle} once (the records written so far are
 * flushed, so they appear as their exchanges complete, not at EOF), and while it waits it
 * looks at {@code stopped} every 100 ms (a signal ends the read like EOF, even when the
 * writer sends nothing more). poll(2) and read(2) on the descriptor through FFM: a
 * FileInputStream blocked in read cannot be woken.
 */
final class PipeInput extends InputStream {
    private static final Linker LINKER = Linker.nativeLinker();
    // int poll(struct pollfd *fds, nfds_t nfds, int timeout)
    private static final MethodHandle POLL = LINKER.downcallHandle(LINKER.defaultLookup().find("poll").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    // ssize_t read(int fd, void *buf, size_t count)
    private static final MethodHandle READ = LINKER.downcallHandle(LINKER.defaultLookup().find("read").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG),
            Linker.Option.captureCallState("errno"));
    private static final int POLLIN = 1;
    private static final int EINTR = 4;
    private static final int WAIT_MILLIS = 100;

    private final int fd;
    private final BooleanSupplier stopped;
    private final Runnable idle;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment pollfd = arena.allocate(8, 4);
    private final MemorySegment errno = arena.allocate(Linker.Option.captureStateLayout());
    private final MemorySegment buffer = arena.allocate(1 << 16);
    private boolean closed;

    /** Reads file descriptor fd (0: stdin); does not close it. */
    PipeInput(int fd, BooleanSupplier stopped, Runnable idle) {
        this.fd = fd;
        this.stopped = stopped;
        this.idle = idle;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n <= 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!awaitInput()) {
            return -1; // stopped: the end of the input
        }
        int want = (int) Math.min(len, buffer.byteSize());
        while (true) {
            long n;
            try {
                n = (long) READ.invokeExact(errno, fd, buffer, (long) want);
            } catch (Throwable t) {
                throw new IOException("read", t);
            }
            if (n > 0) {
                MemorySegment.copy(buffer, JAVA_BYTE, 0, b, off, (int) n);
                return (int) n;
            }
            if (n == 0) {
                return -1;
            }
            int e = errno.get(JAVA_INT, 0);
            if (e != EINTR) {
                throw new IOException("read failed: errno " + e);
            }
        }
    }

    /** True when a read will not block (data, EOF or an error to report); false when stopped first. */
    private boolean awaitInput() throws IOException {
        boolean idleCalled = false;
        int failures = 0;
        while (true) {
            pollfd.set(JAVA_INT, 0, fd);
            pollfd.set(JAVA_SHORT, 4, (short) POLLIN);
            pollfd.set(JAVA_SHORT, 6, (short) 0);
            int r;
            try {
                r = (int) POLL.invokeExact(pollfd, 1L, idleCalled ? WAIT_MILLIS : 0);
            } catch (Throwable t) {
                throw new IOException("poll", t);
            }
            if (r > 0) {
                return true; // readable, EOF or an error: read says which
            }
            if (r < 0 && ++failures > 10) {
                return true; // poll keeps failing (not EINTR, that one signal): a plain read, then
            }
            if (stopped.getAsBoolean()) {
                return false;
            }
            if (!idleCalled) {
                idle.run();
                idleCalled = true;
            }
        }
    }

    /** Frees the buffers (the descriptor stays open); more than once is fine. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
