package dev.httptrace.cli;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Notices that the reader of stdout went away (`| head -n 1` done) without waiting for
 * the next write, which on a quiet interface may never come: poll(2) reports POLLERR
 * on a pipe whose read end is closed. One libc downcall per poll-loop turn.
 */
final class StdoutWatch implements AutoCloseable {
    private static final short POLLERR = 0x008;
    private static final short POLLHUP = 0x010;
    // int poll(struct pollfd *fds, nfds_t nfds, int timeout)
    private static final MethodHandle POLL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("poll").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private final Arena arena = Arena.ofConfined();
    // struct pollfd { int fd; short events; short revents; }
    private final MemorySegment pollfd = arena.allocate(8, 4);

    /** True when stdout is a pipe or socket nobody reads any more. */
    boolean closed() {
        pollfd.set(JAVA_INT, 0, 1);
        pollfd.set(JAVA_SHORT, 4, (short) 0); // no events asked: errors are always reported
        pollfd.set(JAVA_SHORT, 6, (short) 0);
        try {
            int ready = (int) POLL.invokeExact(pollfd, 1L, 0);
            return ready > 0 && (pollfd.get(JAVA_SHORT, 6) & (POLLERR | POLLHUP)) != 0;
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
