package dev.httptrace.tcp;

import dev.httptrace.capture.Segment;

import java.util.ArrayList;
import java.util.Arrays;

/**
 * Puts one direction of a TCP connection back in sequence order and hands it to a
 * {@link StreamConsumer}.
 *
 * <p>Bytes already delivered (retransmissions, duplicates, the front of a partial overlap) are
 * skipped. Segments ahead of the next expected sequence number are held, because records
 * from different CPUs' perf buffers interleave, until the hole before them fills, or are given
 * up as a gap: when the held bytes exceed the bound, when the hole is older than the reorder
 * timeout ({@link #expire}), or when the stream is aborted. A FIN is placed in sequence like
 * data, so a FIN that overtook the last data segment waits for it like any held segment.
 */
public final class StreamReassembler {

    /** What became of one accepted segment. */
    public enum Outcome { NEW, RETRANSMITTED, OUT_OF_ORDER, IGNORED }

    /** Bookkeeping cost charged per held segment besides its bytes, so tiny segments are bounded too. */
    private static final int HELD_OVERHEAD = 64;

    /** A segment waiting for the hole before it; {@code data} is a copy of the captured prefix. */
    private record Held(long seq, int wireLength, byte[] data, long ack, long timestampNanos) {}

    private final StreamConsumer consumer;
    private final TcpCounters counters;
    private final int maxHeldBytes;

    private boolean started;
    private boolean ended;
    private long isn = -1;
    private long nextSeq;
    private long finSeq = -1;
    private long finTimestamp;
    private long holeSince;
    private ArrayList<Held> held;
    private long heldBytes;

    public StreamReassembler(StreamConsumer consumer, TcpCounters counters, int maxHeldBytes) {
        this.consumer = consumer;
        this.counters = counters;
        this.maxHeldBytes = maxHeldBytes;
    }

    public boolean started() { return started; }

    public boolean ended() { return ended; }

    /** The initial sequence number from the SYN, or -1 when none was seen. */
    public long initialSeq() { return isn; }

    /** Bytes are held ahead of a hole, or a FIN waits for missing bytes. */
    public boolean hasHole() {
        return !ended && ((held != null && !held.isEmpty()) || (finSeq >= 0 && nextSeq != finSeq));
    }

    /** Takes the segment's payload and FIN (RST is the connection's business). */
    public Outcome accept(Segment s) {
        int wireLength = s.payloadLength();
        if (ended) {
            return wireLength > 0 ? Outcome.RETRANSMITTED : Outcome.IGNORED;
        }
        long ts = s.timestampNanos();
        boolean syn = s.has(Segment.SYN);
        long dataSeq = syn ? SeqNum.add(s.seq(), 1) : s.seq();
        if (!started) {
            if (syn) {
                isn = s.seq();
                begin(dataSeq, false, ts);
            } else if (wireLength > 0) {
                begin(dataSeq, true, ts);
            } else {
                // A lone FIN on a stream never seen: nothing to put in order.
                if (s.has(Segment.FIN)) end(EndReason.FIN, ts);
                return Outcome.NEW;
            }
        } else if (syn && wireLength == 0) {
            return Outcome.IGNORED; // a repeated SYN
        }
        long ack = s.has(Segment.ACK) ? s.ack() : -1;
        Outcome outcome = wireLength > 0
                ? place(dataSeq, s.payload(), s.payloadOffset(), s.capturedLength(), wireLength, ack, ts)
                : Outcome.NEW;
        if (s.has(Segment.FIN) && !ended && finSeq < 0) {
            boolean hadHole = hasHole();
            finSeq = SeqNum.add(dataSeq, wireLength);
            finTimestamp = ts;
            if (!hadHole && hasHole()) holeSince = ts;
            endIfFinReached(ts);
        }
        return outcome;
    }

    /** Gives up holes older than {@code timeoutNanos} as gaps. */
    public void expire(long nowNanos, long timeoutNanos) {
        while (hasHole() && nowNanos - holeSince >= timeoutNanos) {
            skipFirstHole(nowNanos);
        }
    }

    /** Ends the stream now: whatever is held is delivered after gaps for the holes. */
    public void abort(EndReason reason, long ts) {
        if (ended) return;
        while (held != null && !held.isEmpty() && !ended) {
            skipFirstHole(ts);
        }
        if (!ended && finSeq >= 0 && SeqNum.diff(finSeq, nextSeq) > 0) {
            gap(SeqNum.diff(finSeq, nextSeq), ts);
        }
        end(reason, ts);
    }

    private void begin(long seq, boolean midStream, long ts) {
        started = true;
        nextSeq = seq;
        consumer.onStart(seq, midStream, ts);
    }

    /** Places wire bytes at seq, of which data[off, off+captured) were captured. */
    private Outcome place(long seq, byte[] data, int off, int captured, int wireLength, long ack, long ts) {
        long d = SeqNum.diff(seq, nextSeq);
        if (d + wireLength <= 0) return Outcome.RETRANSMITTED;
        if (finSeq >= 0 && SeqNum.diff(seq, finSeq) >= 0) return Outcome.IGNORED; // beyond the FIN
        if (d > 0) return hold(seq, data, off, captured, wireLength, ack, ts);
        int skip = (int) -d;
        deliver(data, off, captured, skip, wireLength - skip, ack, ts, skip == 0);
        drain(ts);
        return skip > 0 ? Outcome.RETRANSMITTED : Outcome.NEW;
    }

    /**
     * Delivers wire bytes [skip, skip+wireLength) of a segment at nextSeq, whose captured bytes
     * are data[off, off+captured): the captured part, then a gap for the rest.
     */
    private void deliver(byte[] data, int off, int captured, int skip, int wireLength, long ack, long ts,
                         boolean segmentStart) {
        int n = Math.max(0, Math.min(captured - skip, wireLength));
        long seq = nextSeq;
        nextSeq = SeqNum.add(nextSeq, wireLength);
        if (n > 0) consumer.onData(data, off + skip, n, seq, ack, ts, segmentStart);
        if (n < wireLength) {
            consumer.onGap(wireLength - n, false, ts); // the snap length, not a loss
        }
    }

    private Outcome hold(long seq, byte[] data, int off, int captured, int wireLength, long ack, long ts) {
        if (held == null) held = new ArrayList<>(4);
        long d = SeqNum.diff(seq, nextSeq);
        int at = held.size();
        for (int i = 0; i < held.size(); i++) {
            Held h = held.get(i);
            long hd = SeqNum.diff(h.seq, nextSeq);
            if (hd == d && h.wireLength >= wireLength) return Outcome.RETRANSMITTED;
            if (hd > d) { at = i; break; }
        }
        boolean hadHole = hasHole();
        byte[] copy = Arrays.copyOfRange(data, off, off + Math.min(captured, wireLength));
        held.add(at, new Held(seq, wireLength, copy, ack, ts));
        heldBytes += copy.length + HELD_OVERHEAD;
        if (!hadHole) holeSince = ts;
        while (heldBytes > maxHeldBytes && !held.isEmpty()) {
            skipFirstHole(ts);
        }
        return Outcome.OUT_OF_ORDER;
    }

    /** Declares the bytes before the first held segment (or the pending FIN) lost, and moves on. */
    private void skipFirstHole(long ts) {
        long target = (held != null && !held.isEmpty()) ? held.get(0).seq : finSeq;
        long missing = SeqNum.diff(target, nextSeq);
        if (missing > 0) {
            nextSeq = target;
            gap(missing, ts);
        }
        drain(ts);
        if (hasHole()) holeSince = oldestHeldTimestamp();
    }

    private void gap(long bytes, long ts) {
        counters.gaps++;
        consumer.onGap(bytes, true, ts);
    }

    /** Delivers held segments that are now contiguous, then the FIN if its turn has come. */
    private void drain(long ts) {
        while (held != null && !held.isEmpty() && !ended) {
            Held h = held.get(0);
            long d = SeqNum.diff(h.seq, nextSeq);
            if (d > 0) break;
            held.remove(0);
            heldBytes -= h.data.length + HELD_OVERHEAD;
            if (d + h.wireLength > 0) {
                int skip = (int) -d;
                deliver(h.data, 0, h.data.length, skip, h.wireLength - skip, h.ack, h.timestampNanos, skip == 0);
            }
        }
        endIfFinReached(ts);
    }

    private void endIfFinReached(long ts) {
        if (!ended && finSeq >= 0 && SeqNum.diff(nextSeq, finSeq) >= 0) {
            end(EndReason.FIN, ts);
        }
    }

    private long oldestHeldTimestamp() {
        long oldest = finSeq >= 0 ? finTimestamp : Long.MAX_VALUE;
        if (held != null) {
            for (Held h : held) oldest = Math.min(oldest, h.timestampNanos);
        }
        return oldest;
    }

    private void end(EndReason reason, long ts) {
        if (ended) return;
        ended = true;
        held = null;
        heldBytes = 0;
        consumer.onEnd(reason, ts);
    }
}
