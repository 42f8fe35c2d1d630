package dev.httptrace.pipeline;

import dev.httptrace.exchange.Exchange;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.function.Consumer;

/**
 * Puts exchanges from two sources back in the order of their request's timestamp: each is held
 * for {@link #windowNanos} after it was completed, and what is released goes out earliest
 * request first. So two exchanges completed within the window of each other come out in the
 * order of their requests; none is held longer than the window (nor more than
 * {@link #MAX_HELD} at once: then the oldest goes out early). Used with --tls, where an exchange
 * read from TLS plaintext can be completed later than one seen in packets after it (it waits
 * for the process at its other end, the TLS rings are read between the packet rings' batches).
 */
final class ReorderWindow {

    static final int MAX_HELD = 65_536;

    private static final class Held {
        final Exchange exchange;
        final long completedNanos;
        final long order;
        boolean released;

        Held(Exchange exchange, long completedNanos, long order) {
            this.exchange = exchange;
            this.completedNanos = completedNanos;
            this.order = order;
        }
    }

    private final long windowNanos;
    private final Consumer<Exchange> out;
    private final PriorityQueue<Held> byRequest = new PriorityQueue<>(
            Comparator.<Held>comparingLong(h -> h.exchange.request().timestampNanos()).thenComparingLong(h -> h.order));
    private final ArrayDeque<Held> byCompletion = new ArrayDeque<>();
    private long added;

    ReorderWindow(long windowNanos, Consumer<Exchange> out) {
        this.windowNanos = windowNanos;
        this.out = out;
    }

    long windowNanos() {
        return windowNanos;
    }

    /** Holds {@code x}, completed at {@code nowNanos} (System.nanoTime). */
    void add(Exchange x, long nowNanos) {
        Held h = new Held(x, nowNanos, added++);
        byRequest.add(h);
        byCompletion.addLast(h);
        if (byRequest.size() > MAX_HELD) {
            releaseOne();
        }
    }

    /** Releases, earliest request first, for as long as some exchange has been held for the window. */
    void release(long nowNanos) {
        while (true) {
            while (!byCompletion.isEmpty() && byCompletion.peekFirst().released) {
                byCompletion.pollFirst();
            }
            if (byCompletion.isEmpty() || nowNanos - byCompletion.peekFirst().completedNanos < windowNanos) {
                return;
            }
            releaseOne();
        }
    }

    /** Releases everything held, earliest request first (end of the trace). */
    void releaseAll() {
        while (!byRequest.isEmpty()) {
            releaseOne();
        }
        byCompletion.clear();
    }

    int held() {
        return byRequest.size();
    }

    private void releaseOne() {
        Held h = byRequest.poll();
        h.released = true;
        out.accept(h.exchange);
    }
}
