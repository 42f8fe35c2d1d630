package dev.httptrace.cli;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import sun.misc.Signal;

/**
 * SIGINT and SIGTERM as a request to stop, not a JVM shutdown: the poll loop then ends
 * the way it does at --count, so the filter is detached and the summary printed before
 * a normal exit. A shutdown hook could not do that (System.exit blocks inside one).
 *
 * <p>A non-interactive shell starts background jobs with SIGINT ignored (`cmd &`), and
 * the JVM leaves a signal that was ignored at start ignored: it would not install our
 * handler. SIGINT is reset to its default first, so it always means "stop" (as in tcpdump).
 */
final class Signals {
    private static final int SIGINT = 2;
    // sighandler_t signal(int signum, sighandler_t handler); SIG_DFL is the null pointer.
    private static final MethodHandle SIGNAL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("signal").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));

    private Signals() {}

    static void onInterrupt(Runnable action) {
        restoreDefault(SIGINT);
        for (String name : new String[] {"INT", "TERM"}) {
            Signal.handle(new Signal(name), signal -> action.run());
        }
    }

    private static void restoreDefault(int signum) {
        try {
            MemorySegment ignored = (MemorySegment) SIGNAL.invokeExact(signum, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IllegalStateException("signal(" + signum + ", SIG_DFL) failed", t);
        }
    }
}
