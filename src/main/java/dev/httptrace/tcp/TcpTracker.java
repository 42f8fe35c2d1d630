package dev.httptrace.tcp;

import dev.httptrace.capture.Segment;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The TCP stage: a bounded flow table of connections, each with a reassembler per direction.
 *
 * <p>The table keeps connections in least-recently-active order (an access-ordered
 * {@link LinkedHashMap}): when it is full the least recently active connection is evicted,
 * and {@link #expire} drops idle ones from the front. A connection ends when both directions
 * have ended with FIN, at a RST, when replaced by a new SYN on the same addresses and ports,
 * or when evicted, expired or finished; its handler is told and it leaves the table.
 */
public final class TcpTracker {
    private final int maxFlows;
    private final int maxReorderBytes;
    private final ConnectionListener listener;
    private final LinkedHashMap<ConnectionKey, Connection> flows;
    /** Connections with a hole in a stream, checked by {@link #expire} for the reorder timeout. */
    private final List<Connection> withHoles = new ArrayList<>();
    private final TcpCounters counters = new TcpCounters();
    private long latestTimestamp;
    /** Connections another source reports (TLS plaintext), with the time it took them over; bounded. */
    private final LinkedHashMap<ConnectionKey, Long> handedOver = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ConnectionKey, Long> eldest) {
            return size() > MAX_HANDED_OVER;
        }
    };
    /**
     * Connections closed lately, so one closed here before its TLS records were read (a short
     * connection: the rings are read in turn) is still handed over and its counts undone.
     */
    private final LinkedHashMap<ConnectionKey, ConnectionHandler> recentlyClosed = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ConnectionKey, ConnectionHandler> eldest) {
            return size() > MAX_RECENTLY_CLOSED;
        }
    };
    /** Another source may take connections over ({@link #expectHandOvers}). */
    private boolean handOvers;
    static final int MAX_HANDED_OVER = 65_536;
    static final int MAX_RECENTLY_CLOSED = 1024;

    public TcpTracker(int maxFlows, int maxReorderBytes, ConnectionListener listener) {
        if (maxFlows < 1) throw new IllegalArgumentException("maxFlows must be at least 1");
        this.maxFlows = maxFlows;
        this.maxReorderBytes = maxReorderBytes;
        this.listener = listener;
        this.flows = new LinkedHashMap<>(Math.min(maxFlows, 1 << 16) * 4 / 3 + 1, 0.75f, true);
    }

    public TcpCounters counters() { return counters; }

    /** Connections in the table now. */
    public int activeFlows() { return flows.size(); }

    /** Capture time of the latest segment seen. */
    public long latestTimestamp() { return latestTimestamp; }

    public void accept(Segment s) {
        counters.segments++;
        long ts = s.timestampNanos();
        latestTimestamp = Math.max(latestTimestamp, ts);
        ConnectionKey key = ConnectionKey.of(s);
        if (!handedOver.isEmpty()) {
            Long since = handedOver.get(key);
            if (since != null) {
                // Only a SYN sent after the takeover opens a new connection on these addresses and ports.
                if (!s.has(Segment.SYN) || s.has(Segment.ACK) || ts <= since) {
                    counters.handedOverSegments++;
                    return;
                }
                handedOver.remove(key);
            }
        }
        Connection c = flows.get(key);
        if (c != null && c.copies.isCopy(s, c.sideOf(s))) {
            counters.interfaceCopies++; // the same packet on its way through another interface: nothing new
            return;
        }
        boolean syn = s.has(Segment.SYN);
        if (c != null && syn && !s.has(Segment.ACK)) {
            StreamReassembler stream = c.streams[c.sideOf(s)];
            if (stream.started() && stream.initialSeq() != s.seq()) {
                close(c, EndReason.REPLACED, ts);
                c = null;
            }
        }
        if (c == null) {
            // A FIN, RST or bare segment of a connection not tracked carries nothing to start from.
            if (!syn && s.payloadLength() == 0) return;
            c = open(key, s);
            c.copies.isCopy(s, 0); // remembered, so that its copies on other interfaces are known
        }
        c.lastSeenNanos = Math.max(c.lastSeenNanos, ts);
        int side = c.sideOf(s);
        if (syn) c.noteSyn(side, s.has(Segment.ACK));
        if (s.has(Segment.RST)) {
            close(c, EndReason.RST, ts);
            return;
        }
        switch (c.streams[side].accept(s)) {
            case RETRANSMITTED -> {
                counters.retransmittedSegments++;
                c.retransmissions++;
            }
            case OUT_OF_ORDER -> counters.outOfOrderSegments++;
            case NEW, IGNORED -> { }
        }
        if (c.streams[0].ended() && c.streams[1].ended()) {
            close(c, EndReason.FIN, ts);
        } else if (!c.watched && c.streams[side].hasHole()) {
            c.watched = true;
            withHoles.add(c);
        }
    }

    /**
     * Gives up reorder holes older than {@code reorderTimeoutNanos} as gaps, and drops
     * connections idle for {@code idleTimeoutNanos} or more.
     */
    public void expire(long nowNanos, long idleTimeoutNanos, long reorderTimeoutNanos) {
        for (int i = withHoles.size() - 1; i >= 0; i--) {
            Connection c = withHoles.get(i);
            if (!c.closed) {
                c.streams[0].expire(nowNanos, reorderTimeoutNanos);
                c.streams[1].expire(nowNanos, reorderTimeoutNanos);
                if (c.streams[0].ended() && c.streams[1].ended()) close(c, EndReason.FIN, nowNanos);
            }
            if (c.closed || !(c.streams[0].hasHole() || c.streams[1].hasHole())) {
                c.watched = false;
                withHoles.set(i, withHoles.getLast());
                withHoles.removeLast();
            }
        }
        List<Connection> idle = new ArrayList<>();
        for (Connection c : flows.values()) {
            // Access order follows segment arrival, so the idle ones are at the front.
            if (nowNanos - c.lastSeenNanos < idleTimeoutNanos) break;
            idle.add(c);
        }
        for (Connection c : idle) {
            counters.flowsTimedOut++;
            close(c, EndReason.IDLE, nowNanos);
        }
    }

    /** Another source (TLS) may take connections over: remember the ones closed lately for it. */
    public void expectHandOvers() {
        handOvers = true;
    }

    /**
     * Leaves the connection {@code key} to another source that reports it from its TLS
     * plaintext: the ciphertext seen here is neither parsed nor counted as a non-HTTP flow,
     * from now until a new connection (a SYN sent after {@code sinceNanos}) reuses the addresses
     * and ports. Call {@link #expectHandOvers} first, so connections closed lately are remembered.
     */
    public void handOver(ConnectionKey key, long sinceNanos) {
        handedOver.put(key, sinceNanos);
        Connection c = flows.remove(key);
        if (c != null && !c.closed) {
            c.closed = true;
            c.handler.onHandedOver();
        }
        ConnectionHandler closed = recentlyClosed.remove(key);
        if (closed != null) closed.onHandedOver();
    }

    /** Ends every connection: the capture is over. */
    public void finish() {
        for (Connection c : new ArrayList<>(flows.values())) {
            close(c, EndReason.CAPTURE_END, latestTimestamp);
        }
        withHoles.clear();
    }

    private Connection open(ConnectionKey key, Segment s) {
        if (flows.size() >= maxFlows) {
            Iterator<Connection> eldest = flows.values().iterator();
            Connection victim = eldest.next();
            counters.flowsEvicted++;
            close(victim, EndReason.EVICTED, s.timestampNanos());
        }
        Connection c = new Connection(key, s);
        if (s.has(Segment.SYN)) c.noteSyn(0, s.has(Segment.ACK));
        ConnectionHandler handler = listener.opened(c);
        c.handler = handler;
        c.streams[0] = new StreamReassembler(handler.stream(0), counters, maxReorderBytes);
        c.streams[1] = new StreamReassembler(handler.stream(1), counters, maxReorderBytes);
        flows.put(key, c);
        return c;
    }

    private void close(Connection c, EndReason reason, long ts) {
        if (c.closed) return;
        c.closed = true;
        flows.remove(c.key);
        c.streams[0].abort(reason, ts);
        c.streams[1].abort(reason, ts);
        c.handler.onClose(reason, ts);
        if (handOvers) recentlyClosed.put(c.key, c.handler);
    }
}
