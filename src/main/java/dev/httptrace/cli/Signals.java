package dev.httptrace.cli;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.httptrace.capture.NativeSignals;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.function.IntConsumer;
import sun.misc.Signal;

/**
 * Every catchable signal that would terminate the process, as a request to stop rather
 * than a JVM shutdown: the poll loop then ends the way it does at --count, so what the
 * rings hold is read, the filter detached, the summary printed and the verdict decided
 * before a normal exit. A shutdown hook could not do that (System.exit blocks inside one).
 *
 * <p>The JVM handles SIGINT, SIGTERM and SIGHUP with System.exit (exit 128+n, records lost)
 * and SIGQUIT with a thread dump onto stdout, in the middle of the records; Java code can
 * take over the first three but never SIGQUIT. So the shim's C handler takes all of them
 * ({@link NativeSignals}: it writes the number into a pipe that a thread here reads).
 * SIGUSR2 (the JVM's own), SIGPIPE (a closed stdout is noticed on write), SIGXFSZ (the JVM
 * ignores it: the write fails), SIGPROF and SIGVTALRM (profilers' timers) and the real-time
 * signals are left alone.
 *
 * <p>A signal ignored at start stays ignored (nohup ignores SIGHUP on purpose), except
 * SIGINT and SIGQUIT: a non-interactive shell starts background jobs (`cmd &`) with both
 * ignored without meaning it, and they always mean "stop" (as in tcpdump).
 */
final class Signals {
    static final int SIGHUP = 1;
    static final int SIGINT = 2;
    static final int SIGQUIT = 3;
    static final int SIGTERM = 15;
    /** Number and name of each signal caught. */
    private static final int[] NUMBERS = {SIGHUP, SIGINT, SIGQUIT, 10, 14, SIGTERM, 16, 24, 29, 30};
    private static final String[] NAMES = {"HUP", "INT", "QUIT", "USR1", "ALRM", "TERM", "STKFLT", "XCPU", "IO", "PWR"};

    // sighandler_t signal(int signum, sighandler_t handler); SIG_DFL is the null pointer.
    private static final MethodHandle SIGNAL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("signal").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));

    private static boolean installed;

    private Signals() {}

    /** From now on each of these signals calls action (on a thread of its own) with its number. */
    static synchronized void onStop(IntConsumer action) {
        if (installed) {
            return;
        }
        installed = true;
        if (!NativeSignals.available()) {
            onStopFromJava(action);
            return;
        }
        for (int signum : NUMBERS) {
            int r = NativeSignals.catchSignal(signum, signum == SIGINT || signum == SIGQUIT);
            if (r < 0) {
                throw new IllegalStateException("cannot catch signal " + signum + ": errno " + -r);
            }
        }
        Thread.ofPlatform().daemon().name("httptrace-signals").start(() -> {
            int signum;
            while ((signum = NativeSignals.await()) > 0) {
                action.accept(signum);
            }
        });
    }

    /** The name of a signal this class catches, e.g. "HUP". */
    static String name(int signum) {
        for (int i = 0; i < NUMBERS.length; i++) {
            if (NUMBERS[i] == signum) {
                return NAMES[i];
            }
        }
        return Integer.toString(signum);
    }

    /** Without the shim (it did not load): what the JVM lets Java catch. */
    private static void onStopFromJava(IntConsumer action) {
        restoreDefault(SIGINT);
        for (String name : new String[] {"INT", "TERM", "HUP"}) {
            try {
                Signal.handle(new Signal(name), signal -> action.accept(signal.getNumber()));
            } catch (IllegalArgumentException e) {
                // -Xrs, or not available here: the JVM's default stays
            }
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
