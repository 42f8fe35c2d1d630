package dev.httptrace.cli;

import sun.misc.Signal;

/**
 * SIGINT and SIGTERM as a request to stop, not a JVM shutdown: the poll loop then ends
 * the way it does at --count, so the filter is detached and the summary printed before
 * a normal exit. A shutdown hook could not do that (System.exit blocks inside one).
 */
final class Signals {
    private Signals() {}

    static void onInterrupt(Runnable action) {
        for (String name : new String[] {"INT", "TERM"}) {
            Signal.handle(new Signal(name), signal -> action.run());
        }
    }
}
