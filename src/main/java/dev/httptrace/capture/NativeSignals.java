package dev.httptrace.capture;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * The shim's signal catcher (src/main/c/signals.h): a C handler that only writes the
 * signal's number into a pipe, and a blocking read of it for a Java thread. It is how
 * signals the JVM keeps to itself (SIGQUIT: a thread dump on stdout) become a request to
 * stop, and how no Java code runs inside a signal handler.
 */
public final class NativeSignals {
    // int ht_signal_catch(int signum, int even_if_ignored)
    private static final MethodHandle CATCH = Shim.bind(Shim.LIBRARY, "ht_signal_catch",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    // int ht_signal_wait(void)
    private static final MethodHandle WAIT = Shim.bind(Shim.LIBRARY, "ht_signal_wait", FunctionDescriptor.of(JAVA_INT));

    private NativeSignals() {}

    /** Whether the shim loaded (else the caller falls back to what the JVM offers). */
    public static boolean available() {
        return CATCH != null;
    }

    /**
     * Catches signum from now on. Returns 0 when caught, 1 when it was ignored and stays so
     * (unless evenIfIgnored), or a negative errno.
     */
    public static int catchSignal(int signum, boolean evenIfIgnored) {
        try {
            return (int) CATCH.invokeExact(signum, evenIfIgnored ? 1 : 0);
        } catch (Throwable t) {
            throw new IllegalStateException("ht_signal_catch(" + signum + ")", t);
        }
    }

    /** Blocks until a caught signal arrives; returns its number or a negative errno. */
    public static int await() {
        try {
            return (int) WAIT.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("ht_signal_wait", t);
        }
    }
}
