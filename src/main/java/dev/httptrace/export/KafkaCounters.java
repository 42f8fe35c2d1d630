package dev.httptrace.export;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What became of the records offered to the Kafka export. Every record offered ends in
 * exactly one of: delivered (acknowledged by the broker), or not delivered for one {@link Cause}.
 * Until then it is waiting (in the buffer or in the client). Written by the tracing thread and
 * the client's thread, read by anyone.
 */
public final class KafkaCounters {

    /** Why a record was not delivered. */
    public enum Cause {
        /** The buffer was full (count or bytes) when the record came: dropped at once. */
        BUFFER_FULL("buffer_full", "buffer full"),
        /** The broker (or the client's max.request.size) refused it as too large. */
        TOO_LARGE("too_large", "too large"),
        /** Not authorised (topic ACLs) or the credentials were refused. */
        NOT_AUTHORIZED("not_authorized", "not authorised"),
        /** Not acknowledged within delivery.timeout.ms (broker unreachable too long). */
        TIMEOUT("timeout", "timed out"),
        /** Still waiting when the flush at exit ran out of time. */
        AT_EXIT("at_exit", "unsent at exit"),
        /** Any other error the client reported. */
        OTHER("other", "other errors");

        public final String jsonName;
        public final String text;

        Cause(String jsonName, String text) {
            this.jsonName = jsonName;
            this.text = text;
        }
    }

    private final AtomicLong offered = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong[] failed = new AtomicLong[Cause.values().length];

    KafkaCounters() {
        for (int i = 0; i < failed.length; i++) {
            failed[i] = new AtomicLong();
        }
    }

    void offered() {
        offered.incrementAndGet();
    }

    void delivered() {
        delivered.incrementAndGet();
    }

    void failed(Cause cause) {
        failed[cause.ordinal()].incrementAndGet();
    }

    void failed(Cause cause, long n) {
        failed[cause.ordinal()].addAndGet(n);
    }

    /** The counters now. */
    public Snapshot snapshot() {
        long[] f = new long[failed.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = failed[i].get();
        }
        // Read the outcomes before the offers: a record is offered before it has an outcome,
        // so waiting never comes out negative.
        long d = delivered.get();
        return new Snapshot(offered.get(), d, f);
    }

    /**
     * The counters at one moment.
     *
     * @param records   records offered to the export (after every filter)
     * @param delivered records the broker acknowledged
     * @param failed    records not delivered, by {@link Cause} ordinal
     */
    public record Snapshot(long records, long delivered, long[] failed) {
        public long failed(Cause cause) {
            return failed[cause.ordinal()];
        }

        /** Records not delivered, whatever the cause. */
        public long notDelivered() {
            long n = 0;
            for (long f : failed) {
                n += f;
            }
            return n;
        }

        /** Records without an outcome yet: in the buffer or in the client. */
        public long waiting() {
            return records - delivered - notDelivered();
        }

        /** "3 buffer full, 1 timed out", the non-zero causes; "" when none. */
        public String causes() {
            StringBuilder b = new StringBuilder();
            for (Cause c : Cause.values()) {
                long n = failed(c);
                if (n > 0) {
                    b.append(b.isEmpty() ? "" : ", ").append(n).append(' ').append(c.text);
                }
            }
            return b.toString();
        }
    }
}
