package dev.httptrace.http1;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.protocol.Protocol;
import dev.httptrace.protocol.ProtocolConnection;
import dev.httptrace.protocol.ProtocolContext;
import dev.httptrace.tcp.Connection;
import dev.httptrace.tcp.EndReason;
import dev.httptrace.tcp.SeqNum;
import dev.httptrace.tcp.StreamConsumer;

import java.util.ArrayDeque;

/**
 * The HTTP view of one TCP connection: which side is the client, the requests waiting for
 * their responses, and the pairing of each final response with its request.
 *
 * <p>Responses pair with requests first in, first out. Where bytes were lost, the TCP
 * acknowledgement numbers keep the pairing honest: a response can only answer a request
 * whose head the server had received, i.e. whose end its segment acknowledges.
 */
final class Http1Connection implements ProtocolConnection {
    static final int UNKNOWN = 0;
    static final int CLIENT = 1;
    static final int SERVER = 2;

    /** Requests waiting for responses on one connection beyond this are counted, not tracked. */
    static final int MAX_OPEN_EXCHANGES = 256;

    private final Http1Module module;
    private final Http1Counters counters;
    private final ProtocolContext context;
    /** The connection switched to a protocol read here too (h2c): its reading; else null. */
    private ProtocolConnection upgradedTo;
    private final Connection tcp;
    private final MessageStream[] streams;
    private int clientSide = -1;
    /** The side whose resynchronised head set {@link #clientSide}, while that is unconfirmed; else -1. */
    private int tentativeRoleFrom = -1;
    /** Exchanges with a request, not yet reported, in request order. */
    private final ArrayDeque<ExchangeInProgress> open = new ArrayDeque<>(2);
    /** Of those, the ones still waiting for their final response. */
    private final ArrayDeque<ExchangeInProgress> awaitingResponse = new ArrayDeque<>(2);
    /**
     * A response that arrived before its request did (records from different CPUs interleave);
     * the server's stream waits with it. There is at most one: the stream waits.
     */
    private ExchangeInProgress parked;
    /** Framing was lost in the stream a side sends: messages may be missing after the last one seen. */
    private final boolean[] lost = new boolean[2];
    private boolean sawHttp;
    /** A stream did not begin with HTTP; counted as a non-HTTP flow at the close unless HTTP was seen. */
    private boolean notHttp;
    private boolean countedNotHttp;

    Http1Connection(Http1Module module, ProtocolContext context, Connection tcp, int maxHeadBytes, int maxDeferredBytes) {
        this.module = module;
        this.counters = module.counters;
        this.context = context;
        this.tcp = tcp;
        this.streams = new MessageStream[] {
                new MessageStream(this, 0, maxHeadBytes, maxDeferredBytes),
                new MessageStream(this, 1, maxHeadBytes, maxDeferredBytes)};
    }

    @Override
    public boolean recognised() {
        return sawHttp;
    }

    @Override
    public StreamConsumer stream(int side) {
        return streams[side];
    }

    /** CLIENT, SERVER or UNKNOWN: known from who sent the SYN, or from the first valid head once confirmed. */
    int role(int side) {
        if (tentativeRoleFrom >= 0) return UNKNOWN; // unconfirmed: a head of either kind may still set it right
        int client = client();
        return client < 0 ? UNKNOWN : side == client ? CLIENT : SERVER;
    }

    private int client() {
        return clientSide >= 0 ? clientSide : tcp.initiator();
    }

    /**
     * Records that {@code side} sent a request (or a response); false when that contradicts what is known.
     *
     * <p>A head found by resynchronising ({@code resync}: joined mid-stream, or after lost framing) may be
     * body content that merely starts a segment with HTTP text. When such a head is the first to say who
     * the client is, the roles are only tentative: a head from the other side that agrees with them, or
     * the next head of the same stream, confirms them; that stream losing its framing again first (the
     * bytes after the head were not the next head) takes them back ({@link #streamLost}, {@link #retract}),
     * and so does a head from the other side that contradicts them while no exchange depends on them.
     * Otherwise a response body that starts a segment with a request line would make the server the
     * client for good, and every later exchange of the connection would be rejected.
     */
    boolean assignRole(int side, boolean sentRequest, boolean resync) {
        int wanted = sentRequest ? side : 1 - side;
        int client = client();
        if (client >= 0 && client != wanted) {
            if (tentativeRoleFrom != 1 - side || !open.isEmpty() || parked != null) return false;
            // Two heads found mid-stream contradict each other and the older one is unconfirmed (its body
            // may still be running, e.g. a status line with a long Content-Length inside a request body):
            // believe this one, and read the other stream again from its next segment that begins a head.
            streams[tentativeRoleFrom].restartFraming();
            client = -1;
        }
        if (client < 0 && resync) {
            tentativeRoleFrom = side;
        } else if (tentativeRoleFrom >= 0 && (side != tentativeRoleFrom || !resync)) {
            tentativeRoleFrom = -1; // the other direction agrees, or the same stream went on with a head
        }
        clientSide = wanted;
        return true;
    }

    /** Forgets roles that only an unconfirmed head of {@code side} had set, once nothing depends on them. */
    private void dropTentativeRole(int side) {
        if (tentativeRoleFrom == side && open.isEmpty() && parked == null) {
            tentativeRoleFrom = -1;
            clientSide = -1;
        }
    }

    ExchangeInProgress request(int side, HeadParser head, long timestampNanos, long headEnd) {
        if (!head.unproven()) { // a malformed line only counts once a server answers it as HTTP
            counters.requests++;
            sawHttp = true;
        }
        if (open.size() >= MAX_OPEN_EXCHANGES || !module.canHold(head.keptBytes())) {
            counters.requestsDropped++;
            return null;
        }
        ExchangeInProgress waiting = parked;
        parked = null;
        boolean answered = waiting != null
                && (waiting.responseAck < 0 || SeqNum.diff(waiting.responseAck, headEnd) >= 0)
                && (!waiting.parked09 || "0.9".equals(head.version)); // no status line answers only HTTP/0.9
        if (waiting != null && !answered) {
            module.hold(-waiting.keptBytes);
            // the server had not received this request: it answered one never seen
            if (!waiting.parked09) counters.orphanResponses++;
        }
        if (answered && waiting.parked09) {
            counters.responses++;
            sawHttp = true;
        }
        ExchangeInProgress x = answered ? waiting : new ExchangeInProgress();
        long before = x.keptBytes;
        x.request(head, timestampNanos, headEnd);
        module.hold(x.keptBytes - before);
        x.afterClientLoss = lost[side];
        lost[side] = false;
        open.addLast(x);
        if (!answered) awaitingResponse.addLast(x);
        if (waiting != null) streams[1 - side].resume(answered ? x : null);
        return x;
    }

    /**
     * Takes back a request that turned out to be body content (see MessageStream), unless it
     * was answered or reported already. Returns whether it was taken back.
     */
    boolean retract(ExchangeInProgress x) {
        if (x.emitted || x.responseSeen) return false;
        open.remove(x);
        awaitingResponse.remove(x);
        module.hold(-x.keptBytes);
        counters.requests--;
        dropTentativeRole(clientSide);
        return true;
    }

    /** Pairs a final response with its request; null when it answers none that was seen. */
    ExchangeInProgress response(HeadParser head, long timestampNanos, long ack) {
        counters.responses++;
        sawHttp = true;
        skipUnansweredMalformed(head.status, ack);
        ExchangeInProgress x = pair(ack);
        if (x == null) {
            if (clientBytesPending(ack)) {
                // The server had client bytes not delivered to us yet: its request may still come.
                // Only a response cut by a gap leaves the stream free to park another: the older one gives way.
                if (parked != null) abandonParked();
                x = new ExchangeInProgress();
                x.parkedSince = timestampNanos;
                parked = x;
                module.watchParked(this);
            } else {
                counters.orphanResponses++;
                return null;
            }
        }
        long before = x.keptBytes;
        x.response(head, timestampNanos, ack);
        module.hold(x.keptBytes - before);
        return x;
    }

    /**
     * The server's stream does not begin with a status line where the oldest waiting request is an
     * HTTP/0.9 simple request: its answer is the raw bytes until the close. Null when that is not so.
     */
    ExchangeInProgress http09Response(long timestampNanos, long ack) {
        ExchangeInProgress first = awaitingResponse.peekFirst();
        if (first == null || !"0.9".equals(first.requestVersion)) return null;
        awaitingResponse.pollFirst();
        counters.responses++;
        sawHttp = true;
        long before = first.keptBytes;
        first.http09Response(timestampNanos, ack);
        module.hold(first.keptBytes - before);
        return first;
    }

    /**
     * The server's stream began with bytes that are no status line while no HTTP/0.9 request waits:
     * when the client's stream has bytes the server had and that are not parsed yet, the answer waits
     * for them ({@link #request}). Returns whether it waits.
     */
    boolean park09(long timestampNanos, long ack) {
        if (parked != null || client() < 0 || !clientBytesPending(ack)) return false;
        ExchangeInProgress x = new ExchangeInProgress();
        x.http09Response(timestampNanos, ack);
        x.parked09 = true;
        x.parkedSince = timestampNanos;
        parked = x;
        module.watchParked(this);
        return true;
    }

    /** The server had client bytes ({@code ack}) not delivered to us yet. */
    private boolean clientBytesPending(long ack) {
        MessageStream client = streams[client()];
        return ack >= 0 && client.positionKnown() && !client.ended() && SeqNum.diff(ack, client.nextSeq()) > 0;
    }

    /**
     * A line that was no request is answered, if at all, with an error: a response that is not one
     * (below 400) answers the request after it, once the server had that one too. The line then got no
     * answer and makes no record, and the requests after it pair with their own answers again.
     */
    private void skipUnansweredMalformed(int status, long ack) {
        if (status >= 400) return;
        while (awaitingResponse.size() >= 2 && awaitingResponse.peekFirst().malformedRequest != null) {
            ExchangeInProgress first = awaitingResponse.pollFirst();
            ExchangeInProgress next = awaitingResponse.peekFirst();
            if (ack >= 0 && SeqNum.diff(ack, next.requestHeadEnd) < 0) {
                awaitingResponse.addFirst(first);
                return;
            }
            emit(first, "closed"); // no record: a malformed line no server answered
        }
    }

    private ExchangeInProgress pair(long ack) {
        if (awaitingResponse.isEmpty()) return null;
        int serverSide = 1 - clientSide;
        if (lost[serverSide]) {
            // Responses may have been lost: this one answers the latest request the server had.
            lost[serverSide] = false;
            ExchangeInProgress chosen = null;
            for (ExchangeInProgress x : awaitingResponse) {
                if (ack >= 0 && SeqNum.diff(ack, x.requestHeadEnd) < 0) break;
                chosen = x;
            }
            if (chosen == null) return null;
            while (awaitingResponse.peekFirst() != chosen) {
                ExchangeInProgress skipped = awaitingResponse.pollFirst();
                skipped.gap = true;
                emit(skipped, "gap");
            }
            return awaitingResponse.pollFirst();
        }
        ExchangeInProgress first = awaitingResponse.peekFirst();
        if (first.afterClientLoss && ack >= 0 && SeqNum.diff(ack, first.requestHeadEnd) < 0) {
            return null; // it answers a request lost before this one
        }
        return awaitingResponse.pollFirst();
    }

    /** A request waits for its response and {@code ack} (from the server) shows the server has received it. */
    boolean requestAcknowledged(long ack) {
        ExchangeInProgress first = awaitingResponse.peekFirst();
        return first != null && ack >= 0 && SeqNum.diff(ack, first.requestHeadEnd) >= 0;
    }

    void messageDone(ExchangeInProgress x, boolean request) {
        if (x == null) return;
        if (request) {
            x.requestDone = true;
        } else {
            x.responseDone = true;
        }
        if (x.complete() && !x.emitted) emit(x, null);
    }

    /** 101 Switching Protocols, or a 2xx to CONNECT: report the exchange and stop parsing. */
    void upgraded(ExchangeInProgress x) {
        upgradedTo = x != null && clientSide >= 0 && switchesTo(x, "h2c")
                ? context.upgrade(Protocol.HTTP2, clientSide, x.toRequest()) : null;
        streams[0].upgrade(upgradedTo == null ? null : upgradedTo.stream(0));
        streams[1].upgrade(upgradedTo == null ? null : upgradedTo.stream(1));
        if (x == null) return;
        x.upgraded = true;
        x.responseDone = true;
        x.requestDone = true;
        if (x.requestSeen && !x.emitted) emit(x, null);
    }

    /** The request asked to upgrade to {@code protocol} and the 101 answer agreed. */
    private static boolean switchesTo(ExchangeInProgress x, String protocol) {
        return x.statusCode == 101 && names(x.requestHeaders, protocol) && names(x.responseHeaders, protocol);
    }

    /** An {@code Upgrade} header lists {@code protocol}. */
    private static boolean names(java.util.List<Exchange.Header> headers, String protocol) {
        if (headers == null) return false;
        for (Exchange.Header h : headers) {
            if (!h.name().equalsIgnoreCase("upgrade")) continue;
            for (String p : h.value().split(",")) {
                if (p.strip().equalsIgnoreCase(protocol)) return true;
            }
        }
        return false;
    }

    /** The stream that {@code side} sends lost its framing (or was joined mid-way). */
    void streamLost(int side) {
        lost[side] = true;
        dropTentativeRole(side);
    }

    /** A stream seen from its start did not begin with HTTP: a parse error, or a non-HTTP flow if none is seen by the close. */
    void notHttp(int side) {
        if (sawHttp) {
            counters.parseErrors++;
        } else {
            notHttp = true;
        }
    }

    void parseError() {
        counters.parseErrors++;
    }

    void malformedHeaderLines(int n) {
        counters.malformedHeaderLines += n;
    }

    /** A direction ended; when it is the server's, requests still waiting will not be answered. */
    void streamEnded(int side, EndReason reason) {
        if (clientSide < 0 || side == clientSide) return;
        String why = unansweredReason(reason);
        while (!awaitingResponse.isEmpty()) {
            ExchangeInProgress x = awaitingResponse.pollFirst();
            if (!x.emitted) emit(x, why);
        }
    }

    @Override
    public void onClose(EndReason reason, long timestampNanos) {
        if (upgradedTo != null) upgradedTo.onClose(reason, timestampNanos);
        if (notHttp && !sawHttp) {
            counters.nonHttpFlows++;
            countedNotHttp = true;
        }
        while (parked != null) abandonParked(); // the server's stream plays out what waited, its end included
        String why = unansweredReason(reason);
        while (!open.isEmpty()) {
            ExchangeInProgress x = open.peekFirst();
            emit(x, x.responseSeen ? null : why);
        }
        awaitingResponse.clear();
    }

    @Override
    public void onHandedOver() {
        if (countedNotHttp) counters.nonHttpFlows--; // its ciphertext, now reported as plaintext
        countedNotHttp = false;
        if (parked != null) module.hold(-parked.keptBytes);
        parked = null;
        for (ExchangeInProgress x : open) module.hold(-x.keptBytes);
        open.clear();
        awaitingResponse.clear();
    }

    /** A response that waited {@code timeoutNanos} for a request that never came is an orphan. Returns whether one still waits. */
    boolean expireParked(long nowNanos, long timeoutNanos) {
        if (parked != null && nowNanos - parked.parkedSince >= timeoutNanos) abandonParked();
        return parked != null;
    }

    /** Stops waiting for the request of the parked response: it is an orphan, and the server's stream goes on. */
    void abandonParked() {
        if (parked == null) return;
        module.hold(-parked.keptBytes);
        if (!parked.parked09) counters.orphanResponses++;
        parked = null;
        streams[1 - client()].resume(null);
    }

    private String unansweredReason(EndReason reason) {
        if (clientSide >= 0 && lost[1 - clientSide]) return "gap";
        return switch (reason) {
            case FIN, RST, REPLACED -> "closed";
            case IDLE, EVICTED -> "timeout";
            case CAPTURE_END -> "capture_end";
        };
    }

    private void emit(ExchangeInProgress x, String unanswered) {
        x.emitted = true;
        module.hold(-x.keptBytes);
        if (open.peekFirst() == x) {
            open.pollFirst();
        } else {
            open.remove(x);
        }
        // Bytes that made no request line are only an exchange once a server answered them (with HTTP).
        if (x.unproven) {
            if (unanswered != null) return;
            counters.requests++; // counted as a request once the server answered it
        }
        Exchange.Response response = unanswered == null ? x.toResponse() : null;
        context.emit(clientSide, x.toRequest(), response,
                new Exchange.TraceInfo(response == null ? (unanswered == null ? "closed" : unanswered) : null,
                        x.gap, tcp.retransmissions(), x.upgraded,
                        Anomaly.names(x.requestAnomalies, x.responseAnomalies), x.malformedRequest),
                null);
    }
}
