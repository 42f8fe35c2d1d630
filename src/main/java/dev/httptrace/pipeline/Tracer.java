package dev.httptrace.pipeline;

import dev.httptrace.capture.Segment;
import dev.httptrace.capture.SegmentFilter;
import dev.httptrace.capture.TlsRecord;
import dev.httptrace.exchange.Exchange;
import dev.httptrace.exchange.ExchangeSink;
import dev.httptrace.http1.Http1Counters;
import dev.httptrace.http1.Http1Module;
import dev.httptrace.http2.Http2Counters;
import dev.httptrace.http2.Http2Module;
import dev.httptrace.protocol.ProtocolModule;
import dev.httptrace.protocol.ProtocolRouter;
import dev.httptrace.tcp.Connection;
import dev.httptrace.tcp.ConnectionListener;
import dev.httptrace.tcp.TcpCounters;
import dev.httptrace.tcp.TcpTracker;
import dev.httptrace.tcp.TlsOrigin;
import dev.httptrace.tls.TlsTracker;

import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;

/**
 * The composition root of the pure-Java core: wires the two sources of byte streams (TCP
 * segments through {@link TcpTracker}, TLS plaintext through {@link TlsTracker}) to the
 * {@link ProtocolRouter}, which decides per connection which protocol module reads it; each
 * request paired with its response, or left unanswered, reaches the {@link ExchangeSink} as one
 * {@link Exchange}. Not thread-safe: one thread calls {@link #accept}, {@link #expire} and
 * {@link #finish}.
 */
public final class Tracer {

    /**
     * @param maxFlows            connections tracked at once; the least recently active is evicted beyond
     * @param idleTimeoutNanos    a connection without segments for this long is dropped
     * @param maxHeadBytes        message heads longer than this are marked truncated
     * @param maxReorderBytes     bytes held per direction while waiting for a missing segment
     * @param reorderTimeoutNanos how long a missing segment is waited for before it counts as lost
     */
    public record Settings(int maxFlows, long idleTimeoutNanos, int maxHeadBytes, int maxReorderBytes,
                           long reorderTimeoutNanos) {
        public Settings {
            if (maxFlows < 1) throw new IllegalArgumentException("maxFlows must be at least 1: " + maxFlows);
            if (idleTimeoutNanos <= 0) throw new IllegalArgumentException("idleTimeoutNanos must be positive");
            if (maxHeadBytes < 64) throw new IllegalArgumentException("maxHeadBytes must be at least 64: " + maxHeadBytes);
            if (maxReorderBytes < 0) throw new IllegalArgumentException("maxReorderBytes must not be negative");
            if (reorderTimeoutNanos < 0) throw new IllegalArgumentException("reorderTimeoutNanos must not be negative");
        }

        /** 65536 flows, 60 s idle, 64 KiB heads, 256 KiB held per direction, 200 ms reorder wait. */
        public static Settings defaults() {
            return new Settings(65_536, 60_000_000_000L, 64 * 1024, 256 * 1024, 200_000_000L);
        }
    }

    /**
     * Running totals.
     *
     * @param segments              segments accepted
     * @param retransmittedSegments segments whose bytes (all, or some at the front) were already delivered
     * @param outOfOrderSegments    segments that arrived ahead of a missing one and were held
     * @param gaps                  stretches of stream bytes the capture lost (lost samples,
     *                              holes given up); not the parts the snap length left out
     * @param requests              request heads parsed, HTTP/2 request header blocks included (a line that is no request line counts once a
     *                              server answers it)
     * @param responses             final (non-1xx) response heads parsed, orphans and HTTP/2 included
     * @param exchanges             exchanges reported, unanswered ones included
     * @param unanswered            exchanges reported without a response
     * @param orphanResponses       final responses that answered no request seen: never reported
     * @param parseErrors           messages that broke HTTP/1 framing (bad start line or length
     *                              after an earlier message, bad chunk framing); parsing resumed at
     *                              a later segment that begins a head
     * @param nonHttpFlows          connections whose stream, seen from its first byte, did not begin with HTTP/1
     * @param flowsEvicted          connections evicted because the flow table was full
     * @param flowsActive           connections tracked now
     * @param malformedHeaderLines  header lines skipped because they were not {@code name: value}
     * @param flowsTimedOut         connections dropped after the idle timeout
     * @param requestsDropped       requests not tracked because their connection already had
     *                              {@link Http1Counters#requestsDropped() a bound} exchanges open, or
     *                              all open exchanges together held a bounded number of
     *                              bytes of heads
     * @param interfaceCopies       segments skipped as copies of one just seen on another interface
     *                              (a veth and its bridge), not counted as retransmissions
     */
    public record Stats(long segments, long retransmittedSegments, long outOfOrderSegments, long gaps,
                        long requests, long responses, long exchanges, long unanswered, long orphanResponses,
                        long parseErrors, long nonHttpFlows, long flowsEvicted, int flowsActive,
                        long malformedHeaderLines, long flowsTimedOut, long requestsDropped,
                        long interfaceCopies, Http2Stats http2) {

        /** Without HTTP/2 connections. */
        public Stats(long segments, long retransmittedSegments, long outOfOrderSegments, long gaps,
                     long requests, long responses, long exchanges, long unanswered, long orphanResponses,
                     long parseErrors, long nonHttpFlows, long flowsEvicted, int flowsActive,
                     long malformedHeaderLines, long flowsTimedOut, long requestsDropped, long interfaceCopies) {
            this(segments, retransmittedSegments, outOfOrderSegments, gaps, requests, responses, exchanges, unanswered,
                    orphanResponses, parseErrors, nonHttpFlows, flowsEvicted, flowsActive, malformedHeaderLines,
                    flowsTimedOut, requestsDropped, interfaceCopies, Http2Stats.NONE);
        }
    }

    /**
     * The HTTP/2 stage's totals (see {@link Http2Counters}).
     *
     * @param connections   connections read as HTTP/2
     * @param streams       streams reported
     * @param partial       of those, records missing what HPACK or the join hid
     * @param unknownFields header fields HPACK could not know
     * @param rstStreams    RST_STREAM frames that ended a reported stream
     * @param goAways       GOAWAY frames
     * @param framingLost   times a direction lost its frame boundaries
     * @param errors        frames and header blocks that broke the protocol
     */
    public record Http2Stats(long connections, long streams, long partial, long unknownFields, long rstStreams,
                             long goAways, long framingLost, long errors) {
        public static final Http2Stats NONE = new Http2Stats(0, 0, 0, 0, 0, 0, 0, 0);
    }

    private final ExchangeSink sink;
    private final Settings settings;
    private final TcpTracker tcp;
    private final ConnectionListener connections;
    private final Http1Module http1;
    private final Http2Module http2;
    /** Told of each packet connection read as HTTP/2, so the capture copies its segments whole; null: nobody. */
    private Consumer<Connection> wholeSegments;
    private final List<ProtocolModule> modules;
    /** The second source, TLS plaintext; null unless {@link #traceTls} was called. */
    private TlsTracker tls;

    long exchanges;
    long unanswered;

    public Tracer(ExchangeSink sink, Settings settings) {
        this.sink = sink;
        this.settings = settings;
        this.http1 = new Http1Module(settings.maxHeadBytes(), settings.maxReorderBytes());
        this.http2 = new Http2Module(this::http2Opened);
        this.modules = List.of(http1, http2);
        this.connections = ProtocolRouter.listener(http1, List.of(http2), this::emit);
        this.tcp = new TcpTracker(settings.maxFlows(), settings.maxReorderBytes(), connections);
    }

    /**
     * Also takes TLS plaintext records ({@link #accept(TlsRecord)}): their streams are parsed
     * and paired like TCP's, and the packet path leaves their connections alone.
     *
     * @param filter  --port/--host for TLS streams (by their socket), or null for all
     */
    public void traceTls(SegmentFilter filter, TlsTracker.Kernel kernel) {
        // Two sources: exchanges are put back in request order, within a window (see ReorderWindow).
        order = new ReorderWindow(ORDER_WINDOW_NANOS, this::write);
        tcp.expectHandOvers();
        tls = new TlsTracker(settings.maxFlows(), settings.maxReorderBytes(), connections, filter,
                tcp::handOver, tcp.counters(), kernel);
    }

    /**
     * The TLS source's streams get the interface of their socket's route from {@code routes}; with
     * {@code wanted} (not null: --iface) only streams routed on one of those interfaces are traced.
     * Call after {@link #traceTls}.
     */
    public void routeTls(dev.httptrace.tls.SocketRoutes routes, java.util.function.IntPredicate wanted) {
        tls.routeBy(routes, wanted);
    }

    /** Hot path of the TLS source: one record of the uprobes, in the order read. */
    public void accept(TlsRecord record) {
        tls.accept(record);
    }

    /** The TLS source's counters, or null when it is off. */
    /** The TLS source saw process {@code pid} for the first time, running {@code path}. */
    public void tlsExecutable(String path, int pid) {
        if (tls != null) tls.executable(pid, path);
    }

    public TlsTracker.Counters tlsCounters() {
        return tls == null ? null : tls.counters();
    }

    /** The TLS rings lost records: holes in TLS streams are given up as gaps now. */
    public void tlsLost() {
        if (tls != null) tls.expire(tls.latestTimestamp(), Long.MAX_VALUE, 0);
    }

    /**
     * Tells {@code kernel} of each connection seen in packets that is read as HTTP/2: HPACK needs
     * every byte of every header block, so its segments must be captured whole, not a prefix.
     */
    public void captureWholeHttp2(Consumer<Connection> kernel) {
        wholeSegments = kernel;
    }

    private void http2Opened(Connection c) {
        if (wholeSegments != null && c.tls() == null) wholeSegments.accept(c);
    }

    /** Hot path: one captured segment, in capture order. */
    public void accept(Segment segment) {
        tcp.accept(segment);
    }

    /**
     * Housekeeping, about every 100 ms: idle connections are dropped (their unanswered requests
     * reported as "timeout", close-delimited bodies ended), missing segments waited for longer
     * than the reorder timeout are given up as gaps, and responses still waiting for a request
     * that never came are counted as orphans.
     */
    public void expire(long nowEpochNanos) {
        tcp.expire(nowEpochNanos, settings.idleTimeoutNanos(), settings.reorderTimeoutNanos());
        if (tls != null) tls.expire(nowEpochNanos, settings.idleTimeoutNanos(), settings.reorderTimeoutNanos());
        releaseWaiting(false);
        for (ProtocolModule m : modules) m.expire(nowEpochNanos, settings.reorderTimeoutNanos());
        if (order != null) order.release(System.nanoTime());
    }

    /**
     * The capture lost records (the kernel's rings overflowed) before the segments just
     * accepted: holes in streams will not fill, so they are given up as gaps now rather than
     * after the reorder timeout, with the segments held behind them delivered at once.
     */
    public void captureLost() {
        tcp.expire(tcp.latestTimestamp(), Long.MAX_VALUE, 0);
    }

    /** End of capture: every connection ends, requests still waiting are reported as "capture_end". */
    public void finish() {
        tcp.finish();
        if (tls != null) tls.finish();
        releaseWaiting(true);
        for (ProtocolModule m : modules) m.finish();
        if (order != null) order.releaseAll();
    }

    public Stats stats() {
        TcpCounters t = tcp.counters();
        Http1Counters h = http1.counters();
        Http2Counters h2 = http2.counters();
        return new Stats(t.segments(), t.retransmittedSegments(), t.outOfOrderSegments(), t.gaps(),
                h.requests() + h2.requests(), h.responses() + h2.responses(), exchanges, unanswered, h.orphanResponses(), h.parseErrors(),
                h.nonHttpFlows(), t.flowsEvicted(), tcp.activeFlows(), h.malformedHeaderLines(), t.flowsTimedOut(),
                h.requestsDropped(), t.interfaceCopies(), http2Stats());
    }

    private Http2Stats http2Stats() {
        Http2Counters c = http2.counters();
        return new Http2Stats(c.connections(), c.streams(), c.partialStreams(), c.unknownFields(), c.rstStreams(),
                c.goAways(), c.framingLost(), c.protocolErrors() + c.hpackErrors() + c.oversizedBlocks() + c.oversizedFrames());
    }

    /** Head bytes held by HTTP/1 exchanges not reported yet (bounded; 0 once everything is reported). */
    public long heldHeadBytes() {
        return http1.heldHeadBytes();
    }

    /** A TLS exchange waiting a moment for the process at its other end (see {@link #emit(Connection, int, Exchange)}). */
    private record WaitingForPeer(Exchange exchange, TlsOrigin origin, int clientSide, long sinceNanos) {}

    private final ArrayDeque<WaitingForPeer> waitingForPeer = new ArrayDeque<>();
    /**
     * With --tls: how long each exchange is held so that those of both sources come out in the
     * order of their request's timestamp: more than {@link #PEER_WAIT_NANOS} plus the TLS rings'
     * poll interval, so that an exchange waiting for its peer still comes before a later one seen in packets.
     */
    public static final long ORDER_WINDOW_NANOS = 250_000_000L;
    /** Null with one source: exchanges are written as completed. */
    private ReorderWindow order;
    /** How long a TLS exchange waits for the records of the other end's process (a local peer) before it is written. */
    static final long PEER_WAIT_NANOS = 150_000_000L;

    /**
     * An exchange of a TLS stream whose other end is not (yet) known to be traced waits up to
     * {@link #PEER_WAIT_NANOS}: when both ends are on this host, the other end's records may come
     * a moment later (another CPU's ring, a thread preempted before its return probe), and the one
     * record must carry both processes.
     */
    private void emit(Connection connection, int clientSide, Exchange exchange) {
        TlsOrigin origin = connection.tls();
        if (origin != null && origin.socketKnown() && origin.process(1) == null) {
            waitingForPeer.addLast(new WaitingForPeer(exchange, origin, clientSide, System.nanoTime()));
            return;
        }
        emit(exchange);
    }

    /** Writes the TLS exchanges that waited long enough for their peer (all of them when {@code all}). */
    private void releaseWaiting(boolean all) {
        long now = System.nanoTime();
        while (!waitingForPeer.isEmpty() && (all || now - waitingForPeer.peekFirst().sinceNanos() >= PEER_WAIT_NANOS)) {
            WaitingForPeer w = waitingForPeer.pollFirst();
            Exchange x = w.exchange();
            TlsOrigin o = w.origin();
            emit(x.withTls(new Exchange.Tls(o.process(w.clientSide()), o.process(1 - w.clientSide()), o.socketKnown())));
        }
    }

    private void emit(Exchange exchange) {
        if (order != null) {
            order.add(exchange, System.nanoTime());
        } else {
            write(exchange);
        }
    }

    private void write(Exchange exchange) {
        exchanges++;
        if (exchange.response() == null) unanswered++;
        sink.exchange(exchange);
    }
}
