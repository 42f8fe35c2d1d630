package dev.httptrace.tls;

import dev.httptrace.capture.Segment;
import dev.httptrace.capture.SegmentFilter;
import dev.httptrace.capture.TlsRecord;
import dev.httptrace.tcp.Connection;
import dev.httptrace.tcp.ConnectionHandler;
import dev.httptrace.tcp.ConnectionKey;
import dev.httptrace.tcp.ConnectionListener;
import dev.httptrace.tcp.EndReason;
import dev.httptrace.exchange.ProcessInfo;
import dev.httptrace.tcp.StreamReassembler;
import dev.httptrace.tcp.TcpCounters;
import dev.httptrace.tcp.TlsOrigin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TLS streams (one per process and SSL object) turned into ordered byte streams for the
 * layer above, like {@link dev.httptrace.tcp.TcpTracker} does for TCP connections.
 *
 * <p>Side 0 of each connection is the traced process, side 1 the other end. A record's
 * position becomes the sequence number of a segment, the opposite direction's position its
 * acknowledgement number, so the reassemblers and the HTTP pairing work unchanged; a stream
 * seen from its handshake begins with a SYN at position -1, so its first byte starts a
 * message. Not thread-safe, like the rest of the pipeline.
 */
public final class TlsTracker {

    /** Running totals of the TLS streams. */
    public static final class Counters {
        long records;
        long bytes;
        long skippedBytes;
        long peerRecords;
        long filteredRecords;
        long streams;
        long unknownSockets;

        /** Records taken. */
        public long records() { return records; }
        /** Plaintext bytes taken. */
        public long bytes() { return bytes; }
        /** Bytes of large calls the probes did not copy (declared, not lost). */
        public long skippedBytes() { return skippedBytes; }
        /** Records of the second traced end of a connection already reported from the first. */
        public long peerRecords() { return peerRecords; }
        /** Records of streams left out by --port/--host/--iface. */
        public long filteredRecords() { return filteredRecords; }
        /** TLS streams seen. */
        public long streams() { return streams; }
        /** Of those, streams whose socket could not be known. */
        public long unknownSockets() { return unknownSockets; }
    }

    /** What this tracker tells the kernel to stop copying; a refusal only costs copies dropped here. */
    public interface Kernel {
        /** The plaintext of a stream whose records are dropped here (its close still comes). */
        void mute(int pid, long ssl, int serial);

        /** The packets (ciphertext) of a connection reported here from its plaintext. */
        void skipPackets(byte[] localAddress, int localPort, byte[] remoteAddress, int remotePort);
    }

    private record StreamId(int pid, long ssl) {}

    private final class Stream {
        final StreamId id;
        Connection connection;
        ConnectionHandler handler;
        final StreamReassembler[] directions = new StreamReassembler[2];
        final boolean[] begun = new boolean[2];
        ConnectionKey socket;
        /** This stream is the second traced end of a connection another stream reports; its records are dropped. */
        boolean peer;
        boolean filtered;
        ProcessInfo process;
        boolean closed;
        boolean watched;
        long lastSeenNanos;
        byte[] localAddress;
        byte[] remoteAddress;
        int localPort;
        int remotePort;

        Stream(StreamId id) {
            this.id = id;
        }
    }

    private final int maxStreams;
    private final int maxReorderBytes;
    private final ConnectionListener listener;
    private final SegmentFilter filter;
    private final java.util.function.ObjLongConsumer<ConnectionKey> handOver;
    private final Kernel kernel;
    private final Processes processes = new Processes();
    private final LinkedHashMap<StreamId, Stream> streams;
    private final Map<ConnectionKey, Stream> bySocket = new HashMap<>();
    /**
     * Reporters that ended lately, by socket: the other end's first records can come after the
     * reporter's end (its thread preempted inside its first call while the server answered
     * and closed), and must still join it instead of reporting the exchanges again.
     */
    private final LinkedHashMap<ConnectionKey, Ended> recentlyEnded = new LinkedHashMap<>();
    /** How long after its end a reporter still takes a late peer (well under the 1 s before Linux reuses a 4-tuple). */
    static final long LATE_PEER_NANOS = 500_000_000L;
    static final int MAX_RECENTLY_ENDED = 4096;

    /** What a late peer needs of an ended reporter (not the reporter: it holds its parser state). */
    private record Ended(TlsOrigin origin, byte[] remoteAddress, int localPort, int remotePort, long atNanos) {}
    private final List<Stream> withHoles = new ArrayList<>();
    private final TcpCounters tcpCounters;
    private final Counters counters = new Counters();
    private long latestTimestamp;
    /** The interface of each stream's socket; null: not known (ifindex 0). */
    private SocketRoutes routes;
    /** --iface: the interfaces whose streams are kept (by their socket's route); null: any. */
    private java.util.function.IntPredicate wanted;

    /**
     * @param filter   --port/--host: a stream whose socket fails it is left out (null: keep all);
     *                 with a filter, a stream whose socket is unknown is left out too
     * @param handOver told the socket of each stream reported here, so the packet path leaves it alone
     * @param tcpCounters where the reassemblers count gaps and reordering (shared with the packet path)
     * @param kernel   told what the kernel need not copy: streams dropped here, packets of streams reported here
     */
    public TlsTracker(int maxStreams, int maxReorderBytes, ConnectionListener listener, SegmentFilter filter,
                      java.util.function.ObjLongConsumer<ConnectionKey> handOver, TcpCounters tcpCounters,
                      Kernel kernel) {
        this.kernel = kernel;
        this.maxStreams = maxStreams;
        this.maxReorderBytes = maxReorderBytes;
        this.listener = listener;
        this.filter = filter;
        this.handOver = handOver;
        this.tcpCounters = tcpCounters;
        this.streams = new LinkedHashMap<>(256, 0.75f, true);
    }

    public Counters counters() { return counters; }

    /**
     * Gives each stream the interface of its socket's route, and with {@code wanted} (not null)
     * leaves out, like the --port/--host filter, every stream whose socket is not routed on one
     * of those interfaces or cannot be told (unknown socket, unknown route, ifindex 0): never
     * more than asked.
     */
    public void routeBy(SocketRoutes routes, java.util.function.IntPredicate wanted) {
        this.routes = routes;
        this.wanted = wanted;
    }

    /** Streams open now. */
    public int activeStreams() { return streams.size(); }

    public long latestTimestamp() { return latestTimestamp; }

    public void accept(TlsRecord r) {
        counters.records++;
        long ts = r.timestampNanos();
        latestTimestamp = Math.max(latestTimestamp, ts);
        StreamId id = new StreamId(r.pid(), r.ssl());
        Stream s = streams.get(id);
        if (s != null && !r.close() && s.socket != null && r.socketKnown() && !sameSocket(s, r)) {
            // The SSL object now serves another connection (reused without SSL_clear being seen).
            close(s, EndReason.FIN, ts);
            forget(s);
            s = null;
        }
        if (s == null) {
            if (r.close()) return; // the end of a stream never seen
            s = open(id, r);
        }
        s.lastSeenNanos = Math.max(s.lastSeenNanos, ts);
        if (s.peer || s.filtered) {
            if (s.peer) counters.peerRecords++; else counters.filteredRecords++;
            if (r.close()) forget(s);
            return;
        }
        if (r.close()) {
            // SSL_free: both directions end where the kernel's positions stand.
            deliver(s, 0, fin(s, 0, r.position(), r.otherPosition(), ts));
            deliver(s, 1, fin(s, 1, r.otherPosition(), r.position(), ts));
            if (!s.closed) close(s, EndReason.FIN, ts);
            return;
        }
        counters.bytes += r.length();
        counters.skippedBytes += r.skipped();
        int side = r.sent() ? 0 : 1;
        if (!s.begun[side]) {
            s.begun[side] = true;
            // Seen from the handshake: the stream begins at position 0, whatever arrives first.
            if (r.fromStart()) deliver(s, side, segment(s, side, 0xFFFF_FFFFL, r.otherPosition(), Segment.SYN,
                    0, NO_BYTES, 0, 0, ts));
        }
        long wire = r.length() + r.skipped();
        deliver(s, side, segment(s, side, r.position(), r.otherPosition(), Segment.ACK | Segment.PSH,
                (int) Math.min(wire, Integer.MAX_VALUE), r.data(), r.offset(), r.length(), ts));
    }

    private Segment fin(Stream s, int side, long position, long otherPosition, long ts) {
        return segment(s, side, position, otherPosition, Segment.ACK | Segment.FIN, 0, NO_BYTES, 0, 0, ts);
    }

    private static final byte[] NO_BYTES = new byte[0];

    private Segment segment(Stream s, int side, long seq, long ack, int flags, int wireLength,
                            byte[] data, int offset, int length, long ts) {
        byte[] src = side == 0 ? s.localAddress : s.remoteAddress;
        byte[] dst = side == 0 ? s.remoteAddress : s.localAddress;
        return new Segment(ts, 0, src, dst, side == 0 ? s.localPort : s.remotePort,
                side == 0 ? s.remotePort : s.localPort, seq, ack, flags, wireLength, data, offset, length);
    }

    private void deliver(Stream s, int side, Segment segment) {
        if (s.closed) return;
        s.directions[side].accept(segment);
        if (s.directions[0].ended() && s.directions[1].ended()) {
            close(s, EndReason.FIN, segment.timestampNanos());
        } else if (!s.watched && s.directions[side].hasHole()) {
            s.watched = true;
            withHoles.add(s);
        }
    }

    private Stream open(StreamId id, TlsRecord r) {
        if (streams.size() >= maxStreams) {
            Iterator<Stream> eldest = streams.values().iterator();
            Stream victim = eldest.next();
            close(victim, EndReason.EVICTED, r.timestampNanos());
            forget(victim);
        }
        Stream s = new Stream(id);
        counters.streams++;
        s.localAddress = r.localAddress();
        s.remoteAddress = r.remoteAddress();
        s.localPort = r.localPort();
        s.remotePort = r.remotePort();
        s.lastSeenNanos = r.timestampNanos();
        streams.put(id, s);
        ProcessInfo process = processes.of(r.pid(), r.tid(), r.comm());
        s.process = process;
        if (!r.socketKnown()) counters.unknownSockets++;
        int ifindex = routes == null || !r.socketKnown() ? 0 : routes.ifindex(s.localAddress, s.remoteAddress);
        if (filter != null && (!r.socketKnown() || !filter.accepts(segment(s, 0, 0, 0, Segment.ACK, 1, NO_BYTES, 0, 0, 0)))
                || wanted != null && (ifindex == 0 || !wanted.test(ifindex))) {
            s.filtered = true;
            kernel.mute(id.pid(), id.ssl(), r.serial());
            return s;
        }
        if (r.socketKnown()) {
            s.socket = ConnectionKey.of(segment(s, 0, 0, 0, 0, 0, NO_BYTES, 0, 0, 0));
            Stream reporter = bySocket.get(s.socket);
            TlsOrigin reported = reporter != null && !reporter.closed && reporter.connection != null
                    ? reporter.connection.tls() : lateReporter(s, r.timestampNanos());
            if (reported != null) {
                // Both ends of this connection are traced: one record per exchange, with both processes.
                s.peer = true;
                reported.peer(process);
                kernel.mute(id.pid(), id.ssl(), r.serial());
                return s;
            }
            bySocket.put(s.socket, s);
            handOver.accept(s.socket, r.timestampNanos());
            kernel.skipPackets(s.localAddress, s.localPort, s.remoteAddress, s.remotePort);
        }
        s.connection = Connection.ofTls(ifindex, s.localAddress, s.localPort, s.remoteAddress, s.remotePort,
                r.timestampNanos(), new TlsOrigin(process, r.socketKnown()));
        s.handler = listener.opened(s.connection);
        s.directions[0] = new StreamReassembler(s.handler.stream(0), tcpCounters, maxReorderBytes);
        s.directions[1] = new StreamReassembler(s.handler.stream(1), tcpCounters, maxReorderBytes);
        return s;
    }

    /** The record names the socket the stream was opened on (compared without allocating: once per record). */
    private static boolean sameSocket(Stream s, TlsRecord r) {
        return r.localPort() == s.localPort && r.remotePort() == s.remotePort
                && java.util.Arrays.equals(r.localAddress(), s.localAddress)
                && java.util.Arrays.equals(r.remoteAddress(), s.remoteAddress);
    }

    /**
     * Gives up holes older than {@code reorderTimeoutNanos} as gaps, and ends streams idle
     * for {@code idleTimeoutNanos} (a process that never freed its SSL object, or exited).
     */
    public void expire(long nowNanos, long idleTimeoutNanos, long reorderTimeoutNanos) {
        for (int i = withHoles.size() - 1; i >= 0; i--) {
            Stream s = withHoles.get(i);
            if (!s.closed) {
                s.directions[0].expire(nowNanos, reorderTimeoutNanos);
                s.directions[1].expire(nowNanos, reorderTimeoutNanos);
                if (s.directions[0].ended() && s.directions[1].ended()) close(s, EndReason.FIN, nowNanos);
            }
            if (s.closed || !(s.directions[0].hasHole() || s.directions[1].hasHole())) {
                s.watched = false;
                withHoles.set(i, withHoles.getLast());
                withHoles.removeLast();
            }
        }
        List<Stream> idle = new ArrayList<>();
        for (Stream s : streams.values()) {
            if (nowNanos - s.lastSeenNanos < idleTimeoutNanos) break; // access order: idle ones first
            idle.add(s);
        }
        for (Stream s : idle) {
            close(s, EndReason.IDLE, nowNanos);
            forget(s);
        }
    }

    /**
     * The kernel's word on a process's executable, from its first SSL call: so a process
     * that exits before its records are read (a one-shot curl) still has it.
     */
    public void executable(int pid, String path) {
        processes.know(pid, path);
    }

    /** Ends every stream: the trace is over. */
    public void finish() {
        for (Stream s : new ArrayList<>(streams.values())) {
            close(s, EndReason.CAPTURE_END, latestTimestamp);
            forget(s);
        }
        withHoles.clear();
    }

    private void close(Stream s, EndReason reason, long ts) {
        if (s.closed) return;
        s.closed = true;
        if (s.handler != null) {
            s.directions[0].abort(reason, ts);
            s.directions[1].abort(reason, ts);
            s.handler.onClose(reason, ts);
        }
        if (reason == EndReason.FIN) forget(s);
    }

    private void forget(Stream s) {
        streams.remove(s.id);
        if (s.socket != null && bySocket.get(s.socket) == s) {
            bySocket.remove(s.socket);
            if (s.connection != null) {
                recentlyEnded.put(s.socket, new Ended(s.connection.tls(), s.remoteAddress, s.localPort, s.remotePort,
                        latestTimestamp));
                if (recentlyEnded.size() > MAX_RECENTLY_ENDED) recentlyEnded.pollFirstEntry();
            }
        }
    }

    /** The origin of a reporter that ended lately at the other end of the socket of {@code s}, or null. */
    private TlsOrigin lateReporter(Stream s, long ts) {
        Ended e = recentlyEnded.get(s.socket);
        if (e == null || ts - e.atNanos() > LATE_PEER_NANOS) return null;
        boolean otherEnd = e.remotePort() == s.localPort && e.localPort() == s.remotePort
                && java.util.Arrays.equals(e.remoteAddress(), s.localAddress);
        return otherEnd ? e.origin() : null;
    }

    /** Names and executables of processes by pid, read once from /proc while the process lives. */
    static final class Processes {
        private static final int MAX = 4096;
        private final LinkedHashMap<Integer, String[]> known = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, String[]> eldest) {
                return size() > MAX;
            }
        };

        ProcessInfo of(int pid, int tid, String threadName) {
            String[] p = known.computeIfAbsent(pid, Processes::read);
            return new ProcessInfo(pid, tid, p[0] != null ? p[0] : threadName, threadName, p[1]);
        }

        /** A process (maybe new under a reused pid) whose executable the kernel named. */
        void know(int pid, String executable) {
            String[] p = read(pid);
            known.put(pid, new String[] {p[0], executable});
        }

        private static String[] read(int pid) {
            String name = null, exe = null;
            try {
                name = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Integer.toString(pid), "comm")).strip();
            } catch (java.io.IOException | RuntimeException e) {
                // gone already: the thread's name stands in
            }
            try {
                exe = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc", Integer.toString(pid), "exe")).toString();
            } catch (java.io.IOException | RuntimeException e) {
                // gone, or not ours to read
            }
            return new String[] {name, exe};
        }
    }
}
