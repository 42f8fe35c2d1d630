package dev.httptrace.http1;

import dev.httptrace.tcp.EndReason;
import dev.httptrace.tcp.SeqNum;
import dev.httptrace.tcp.StreamConsumer;

import java.util.ArrayList;
import java.util.Arrays;

/**
 * One direction of a connection read as a sequence of HTTP/1 messages: heads parsed, bodies
 * skipped by counting (RFC 9112 section 6).
 *
 * <p>When framing is lost (a gap where the length of what is missing cannot be accounted for,
 * a malformed head, a stream joined mid-way) the stream waits for a segment whose first bytes
 * begin a valid head, and looks nowhere else: body content that looks like HTTP never makes a
 * record unless a segment starts with it after framing was lost. Even then a head found that
 * way is held to account: a request must be followed by the next head (else it is dropped),
 * the roles it implies stay tentative until the other side agrees ({@link Http1Connection}),
 * and the body of a response that answers no request does not outlast a segment that starts
 * with a status line once the server has acknowledged a request waiting for its answer.
 */
final class MessageStream implements StreamConsumer {

    private enum State { AWAIT_SYNC, AWAIT_LINE, HEAD, AWAIT_REQUEST, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE, UPGRADED, ENDED }

    /** Stream events kept while a response waits for its request: data (a copy), a gap, or the end. */
    private record Deferred(byte[] data, long seq, long ack, long timestampNanos, boolean segmentStart, long gap,
                            boolean lost, EndReason end) {}

    /** Where the head being parsed began, which decides what its failure means. */
    private enum Origin { STREAM_START, NEXT_MESSAGE, RESYNC }

    private final Http1Connection connection;
    private final int side;
    private final HeadParser head;
    private final ChunkedBody chunked = new ChunkedBody();
    private final StartLineScanner statusProbe = new StartLineScanner();

    private State state = State.AWAIT_SYNC;
    private Origin origin = Origin.RESYNC;
    private boolean positionKnown;
    private long nextSeq;
    private long headTimestamp;
    private long headAck;
    /** Sequence number of the head's first byte: what an HTTP/0.9 answer had sent before it failed as a head. */
    private long headSeq;
    /** The stream's first line failed the strict rules (told to the connection once). */
    private boolean startNotHttp;
    /**
     * Framing was lost inside a known client's stream by a framing error with no gap (a broken chunked
     * body, a malformed request line): the next request is looked for at every line start
     * ({@link State#AWAIT_LINE}), strictly, not only at the next segment start. A gap ends it.
     */
    private boolean huntLines;
    /** Bytes line hunting may still look through before it waits for a segment start instead. */
    private long huntBudget;
    /** The head being parsed began at a line start inside a segment: its start line must end in it. */
    private boolean huntMidSegment;
    static final int HUNT_BYTES = 64 * 1024;
    /** The server's stream began with no status line before the HTTP/0.9 request it answers was parsed. */
    private boolean parked09;
    /** Bytes of that answer its failed head had read. */
    private long parked09Sent;
    /** Checks whether a request body begins with a request line (a request smuggled in it). */
    private final StartLineScanner bodyProbe = new StartLineScanner();
    private boolean probingBody;
    private int probedBytes;

    /** The message whose body is being read; null for messages not tracked (orphan responses). */
    private ExchangeInProgress current;
    private boolean currentIsRequest;
    private long remaining;
    /**
     * A request found by resynchronising, until the bytes after it prove it real by beginning
     * the next head: body content that merely starts a segment with a request line is followed
     * by more body, and is then dropped.
     */
    private ExchangeInProgress provisional;
    /** After an upgrade to a protocol read here too (h2c): its reader of this direction; null otherwise. */
    private StreamConsumer upgradedTo;
    private boolean upgradedStarted;

    /**
     * A response head arrived before its request (records of the two directions interleave):
     * how its body is framed depends on the request's method (HEAD, CONNECT), so the bytes after
     * it wait here, up to {@link #maxDeferredBytes}, until the request comes or is given up.
     */
    private ArrayList<Deferred> deferred;
    private long deferredBytes;
    private final int maxDeferredBytes;

    MessageStream(Http1Connection connection, int side, int maxHeadBytes, int maxDeferredBytes) {
        this.connection = connection;
        this.side = side;
        this.head = new HeadParser(maxHeadBytes);
        this.maxDeferredBytes = maxDeferredBytes;
    }

    /** The stream has started and {@link #nextSeq()} is meaningful. */
    boolean positionKnown() { return positionKnown; }

    /** No more bytes will come. */
    boolean ended() { return state == State.ENDED; }

    /** Sequence number of the next byte of this stream to arrive. */
    long nextSeq() { return nextSeq; }

    @Override
    public void onStart(long seq, boolean midStream, long timestampNanos) {
        positionKnown = true;
        nextSeq = seq;
        if (midStream) {
            connection.streamLost(side);
        } else {
            beginHead(Origin.STREAM_START);
        }
    }

    @Override
    public void onData(byte[] buf, int off, int len, long seq, long ack, long ts, boolean segmentStart) {
        int i = off;
        int end = off + len;
        boolean triedSync = false;
        int huntTried = -1;
        parse:
        while (i < end) {
            // The position parsed so far: what the other direction's pairing may compare with.
            nextSeq = SeqNum.add(seq, i - off);
            if (i == off && segmentStart && inBody() && untrustedBodyEndsHere(buf, i, end, ack)) {
                state = State.AWAIT_SYNC; // the segment is taken as the awaited response (see below)
                connection.streamLost(side);
            }
            switch (state) {
                case AWAIT_SYNC -> {
                    if (!segmentStart || i != off || triedSync) break parse;
                    triedSync = true;
                    beginHead(Origin.RESYNC);
                }
                case AWAIT_LINE -> {
                    boolean lineStart = i == off ? segmentStart : buf[i - 1] == '\n';
                    if (!lineStart || i == huntTried) {
                        int lf = i;
                        while (lf < end && buf[lf] != '\n') lf++;
                        huntBudget -= lf + 1 - i;
                        if (huntBudget < 0) { // long enough: only a segment start from here on
                            huntLines = false;
                            state = State.AWAIT_SYNC;
                            break parse;
                        }
                        if (lf + 1 >= end) break parse;
                        i = lf + 1;
                    }
                    huntTried = i;
                    huntMidSegment = !(segmentStart && i == off);
                    beginHead(Origin.RESYNC);
                }
                case AWAIT_REQUEST -> {
                    defer(new Deferred(Arrays.copyOfRange(buf, i, end), SeqNum.add(seq, i - off), ack, ts,
                            segmentStart && i == off, 0, false, null));
                    break parse;
                }
                case HEAD -> {
                    if (!head.begun()) {
                        headTimestamp = ts;
                        headAck = ack;
                        headSeq = SeqNum.add(seq, i - off);
                    }
                    i += head.feed(buf, i, end - i);
                    nextSeq = SeqNum.add(seq, i - off);
                    // Not HTTP unless a server answers it: counted when the connection closes with no HTTP seen.
                    if (origin == Origin.STREAM_START && head.readingLeniently() && !startNotHttp) {
                        startNotHttp = true;
                        connection.notHttp(side);
                    }
                    if (huntMidSegment && head.state() == HeadParser.MORE && !head.hasStartLine() && i == end) {
                        // a start line cut by the segment's end, hunted mid-segment: try the next segment start
                        head.release();
                        state = State.AWAIT_LINE;
                    } else if (head.state() == HeadParser.DONE) {
                        headDone(nextSeq);
                    } else if (head.state() == HeadParser.INVALID && !http09Response(SeqNum.diff(nextSeq, headSeq))) {
                        headInvalid();
                    }
                }
                case BODY_LENGTH -> {
                    int n = (int) Math.min(remaining, end - i);
                    if (probingBody) probeBody(buf, i, i + n);
                    i += n;
                    remaining -= n;
                    addBody(n);
                    if (remaining == 0) messageDone();
                }
                case BODY_CHUNKED -> {
                    long before = chunked.dataBytes();
                    i += chunked.feed(buf, i, end - i);
                    addBody(chunked.dataBytes() - before);
                    if (chunked.wrapped()) flag(Anomaly.CHUNKED_INVALID);
                    if (chunked.done()) {
                        messageDone();
                    } else if (chunked.failed()) {
                        flag(Anomaly.CHUNKED_INVALID);
                        connection.parseError();
                        boolean hunt = currentIsRequest && origin != Origin.RESYNC;
                        messageDone();
                        loseFraming();
                        if (hunt) huntNextRequest();
                    }
                }
                case BODY_CLOSE -> {
                    addBody(end - i);
                    i = end;
                }
                case UPGRADED -> {
                    if (upgradedTo != null) {
                        long at = SeqNum.add(seq, i - off);
                        if (!upgradedStarted) {
                            upgradedStarted = true;
                            upgradedTo.onStart(at, false, ts);
                        }
                        upgradedTo.onData(buf, i, end - i, at, ack, ts, segmentStart && i == off);
                    }
                    i = end;
                }
                case ENDED -> i = end;
            }
        }
        nextSeq = SeqNum.add(seq, len);
    }

    @Override
    public void onGap(long bytes, boolean lost, long timestampNanos) {
        nextSeq = SeqNum.add(nextSeq, bytes);
        if (state == State.AWAIT_LINE) state = State.AWAIT_SYNC; // after a gap, only a segment start
        huntLines = false;
        switch (state) {
            case HEAD -> {
                if (head.hasStartLine()) partialHead();
                loseFraming();
            }
            // Inside a body of known extent the record stays exact: only a real loss is
            // flagged, not body bytes the snap length chose not to copy.
            case BODY_LENGTH -> {
                if (bytes <= remaining) {
                    if (lost) markGap();
                    remaining -= bytes;
                    addBody(bytes);
                    if (remaining == 0) messageDone();
                } else {
                    markGap();
                    addBody(remaining);
                    messageDone();
                    loseFraming();
                }
            }
            case BODY_CHUNKED -> {
                if (chunked.inData() && bytes <= chunked.remainingInChunk()) {
                    if (lost) markGap();
                    chunked.skipData(bytes);
                    addBody(bytes);
                } else {
                    markGap();
                    messageDone();
                    loseFraming();
                }
            }
            case BODY_CLOSE -> {
                if (lost) markGap();
                addBody(bytes);
            }
            case AWAIT_REQUEST -> defer(new Deferred(null, 0, 0, timestampNanos, false, bytes, lost, null));
            case UPGRADED -> {
                if (upgradedStarted) upgradedTo.onGap(bytes, lost, timestampNanos);
            }
            case AWAIT_SYNC, AWAIT_LINE, ENDED -> { }
        }
    }

    @Override
    public void onEnd(EndReason reason, long timestampNanos) {
        if (state == State.AWAIT_REQUEST) { // the request may still be on its way: the end waits too
            defer(new Deferred(null, 0, 0, timestampNanos, false, 0, false, reason));
            return;
        }
        if (upgradedStarted) upgradedTo.onEnd(reason, timestampNanos);
        switch (state) {
            // A close-delimited body ends here; a body cut short is reported as far as it came, and flagged.
            case BODY_CLOSE -> messageDone();
            case BODY_LENGTH, BODY_CHUNKED -> {
                flag(Anomaly.BODY_INCOMPLETE);
                messageDone();
            }
            default -> { }
        }
        state = State.ENDED;
        current = null;
        head.release();
        connection.streamEnded(side, reason);
    }

    /** The connection switched protocols: nothing more on it is HTTP/1. */
    void upgrade() {
        upgrade(null);
    }

    /** As {@link #upgrade()}, the bytes after the switch going to {@code next} (null: dropped). */
    void upgrade(StreamConsumer next) {
        upgradedTo = next;
        state = State.UPGRADED;
        current = null;
        head.release();
    }

    /** Lenient request lines only at a known boundary of a known client's stream: hunting stays strict. */
    private void beginHead(Origin origin) {
        this.origin = origin;
        state = State.HEAD;
        int role = connection.role(side);
        head.start(role != Http1Connection.SERVER, role != Http1Connection.CLIENT,
                origin != Origin.RESYNC && role == Http1Connection.CLIENT);
    }

    private void headDone(long headEnd) {
        huntLines = false;
        huntMidSegment = false;
        connection.malformedHeaderLines(head.malformedLines);
        boolean request = head.kind == StartLineScanner.REQUEST;
        if (!connection.assignRole(side, request, origin == Origin.RESYNC)) {
            headInvalid();
            return;
        }
        head.release();
        if (request) {
            requestHead(headEnd);
        } else {
            responseHead();
        }
    }

    private void requestHead(long headEnd) {
        if (head.malformedLine != null && origin != Origin.STREAM_START) connection.parseError();
        current = connection.request(side, head, headTimestamp, headEnd);
        currentIsRequest = true;
        provisional = origin == Origin.RESYNC ? current : null;
        if (state == State.UPGRADED) return; // the response that waited for this request switched protocols
        if (head.malformedLine != null) {
            boolean hunt = origin == Origin.NEXT_MESSAGE; // not in a stream that never was HTTP (TLS)
            messageDone();
            loseFraming();
            if (hunt) huntNextRequest();
            return;
        }
        frameRequest();
    }

    /**
     * Decides how the body of the request just parsed is delimited (RFC 9112 section 6.3). Where
     * the length cannot be known, a head found by resynchronising loses the framing; at a known
     * boundary the body is framed as a lenient server would, the message flagged, and parsing goes
     * on with the next head: chunked wins over Content-Length; an unknown coding is ignored
     * (Content-Length if valid, else no body); of conflicting lengths the first counts; an invalid
     * length means no body.
     */
    private void frameRequest() {
        if (head.transferEncoding && head.contentLengthSeen) flag(Anomaly.TRANSFER_ENCODING_WITH_CONTENT_LENGTH);
        boolean lenient = origin != Origin.RESYNC;
        if (head.transferEncoding && head.chunked) {
            startChunked();
        } else if (head.transferEncoding) { // a request body with no length we can know (rule 4)
            flag(Anomaly.TRANSFER_ENCODING_UNKNOWN);
            if (lenient) startLength(Math.max(0, usableContentLength()));
            else framingError();
        } else if (head.contentLengthInvalid) {
            if (lenient) startLength(Math.max(0, usableContentLength()));
            else framingError();
        } else {
            startLength(Math.max(0, head.contentLength));
        }
    }

    /** The Content-Length a lenient reader goes by: the first of conflicting values; -1 when absent or not a number. */
    private long usableContentLength() {
        return (head.anomalies & Anomaly.CONTENT_LENGTH_INVALID.bit) != 0 ? -1 : head.contentLength;
    }

    private void responseHead() {
        provisional = null;
        int status = head.status;
        if (status < 200 && status != 101) { // interim (100 Continue, 103 Early Hints): the final one follows
            beginHead(Origin.NEXT_MESSAGE);
            return;
        }
        current = connection.response(head, headTimestamp, headAck);
        currentIsRequest = false;
        if (current != null && !current.requestSeen) {
            state = State.AWAIT_REQUEST;
            return;
        }
        frameResponse();
    }

    /**
     * The request a waiting response answers has arrived ({@code x}), or none will (null: the
     * response is an orphan): frame its body and go through the bytes that waited.
     */
    void resume(ExchangeInProgress x) {
        if (state != State.AWAIT_REQUEST) return;
        if (parked09) { // an answer with no status line: the request that came is HTTP/0.9, or it was no HTTP
            parked09 = false;
            if (x != null) {
                current = x;
                currentIsRequest = false;
                state = State.BODY_CLOSE;
                addBody(parked09Sent);
            } else {
                headInvalid();
            }
        } else {
            current = x;
            currentIsRequest = false;
            frameResponse();
        }
        ArrayList<Deferred> events = deferred;
        deferred = null;
        deferredBytes = 0;
        if (events == null) return;
        long position = nextSeq; // replaying must not move the stream position back
        for (Deferred d : events) { // may stop to wait again: onData then defers the rest anew
            if (d.end != null) {
                onEnd(d.end, d.timestampNanos);
            } else if (d.data == null) {
                onGap(d.gap, d.lost, d.timestampNanos);
            } else {
                onData(d.data, 0, d.data.length, d.seq, d.ack, d.timestampNanos, d.segmentStart);
            }
        }
        nextSeq = position;
    }

    /**
     * The body being skipped belongs to a response that answers no request seen (found by
     * resynchronising, e.g. joined mid-stream), so its framing is unproven: it may be body text
     * that happened to start a segment with a status line. Once the server has acknowledged a
     * request that waits for its answer, a segment that starts with a status line is taken as that
     * answer rather than counted as body of the unproven one (whose length could otherwise swallow
     * every later response of the connection).
     */
    private boolean untrustedBodyEndsHere(byte[] buf, int off, int end, long ack) {
        return current == null && !currentIsRequest && connection.requestAcknowledged(ack)
                && startsWithStatusLine(buf, off, end);
    }

    private boolean inBody() {
        return state == State.BODY_LENGTH || state == State.BODY_CHUNKED || state == State.BODY_CLOSE;
    }

    private boolean startsWithStatusLine(byte[] buf, int off, int end) {
        StartLineScanner scanner = statusProbe;
        scanner.reset(false, true);
        for (int i = off; i < end && i - off < 512; i++) {
            int kind = scanner.feed(buf[i]);
            if (kind != StartLineScanner.MORE) return kind == StartLineScanner.RESPONSE;
        }
        return false;
    }

    private void defer(Deferred d) {
        if (deferred == null) deferred = new ArrayList<>();
        deferred.add(d);
        deferredBytes += (d.data == null ? 0 : d.data.length) + 64;
        if (deferredBytes > maxDeferredBytes) {
            connection.abandonParked(); // resumes this stream
            if (state == State.AWAIT_REQUEST) {
                resume(null); // nothing parked to give up, yet still waiting: bounded all the same
            }
        }
    }

    /** Decides how the body of the response just parsed is delimited (RFC 9112 section 6.3). */
    private void frameResponse() {
        int status = head.status;
        String method = current != null && current.requestSeen ? current.method : null;
        if (status == 101 || (status / 100 == 2 && "CONNECT".equals(method))) {
            connection.upgraded(current);
        } else if ("HEAD".equals(method) || status == 204 || status == 304) {
            messageDone();
        } else if (head.transferEncoding) {
            if (head.contentLengthSeen) flag(Anomaly.TRANSFER_ENCODING_WITH_CONTENT_LENGTH);
            if (head.chunked) {
                startChunked();
            } else {
                state = State.BODY_CLOSE;
            }
        } else if (head.contentLengthInvalid && origin == Origin.RESYNC) {
            framingError();
        } else if (head.contentLengthInvalid) { // lenient: the first of conflicting values, else until the close
            long length = usableContentLength();
            if (length >= 0) startLength(length);
            else state = State.BODY_CLOSE;
        } else if (head.contentLength >= 0) {
            startLength(head.contentLength);
        } else {
            state = State.BODY_CLOSE;
        }
    }

    private void startLength(long length) {
        if (length == 0) {
            messageDone();
        } else {
            state = State.BODY_LENGTH;
            remaining = length;
            probingBody = currentIsRequest && current != null && origin != Origin.RESYNC;
            if (probingBody) {
                bodyProbe.reset(true, false);
                probedBytes = 0;
            }
        }
    }

    /** Feeds the first line of a request body to {@link #bodyProbe}; a request line there is flagged. */
    private void probeBody(byte[] buf, int from, int to) {
        for (int k = from; k < to; k++) {
            int kind = bodyProbe.feed(buf[k]);
            if (kind == StartLineScanner.MORE && ++probedBytes < 512) continue;
            probingBody = false;
            if (kind == StartLineScanner.REQUEST) flag(Anomaly.BODY_WITH_REQUEST);
            return;
        }
    }

    private void startChunked() {
        state = State.BODY_CHUNKED;
        chunked.reset();
    }

    /** The head is fine but its body cannot be delimited: report the message, then look for the next head. */
    private void framingError() {
        connection.parseError();
        messageDone();
        loseFraming();
    }

    /** A head cut by a gap after its start line: the message is known, with the headers seen so far. */
    private void partialHead() {
        boolean request = head.kind == StartLineScanner.REQUEST;
        if (!connection.assignRole(side, request, origin == Origin.RESYNC)) return;
        if (!request && head.status < 200 && head.status != 101) return;
        if (request) {
            current = connection.request(side, head, headTimestamp, nextSeq);
        } else {
            current = connection.response(head, headTimestamp, headAck);
        }
        currentIsRequest = request;
        markGap();
        messageDone();
    }

    /**
     * The server's stream does not begin with a head where an HTTP/0.9 simple request waits for
     * its answer: the answer is the raw bytes until the close ({@code sent} of them so far).
     */
    private boolean http09Response(long sent) {
        if (origin == Origin.RESYNC || connection.role(side) != Http1Connection.SERVER) return false;
        ExchangeInProgress x = connection.http09Response(headTimestamp, headAck);
        if (x == null) {
            // Its request may not have been parsed yet (records of two CPUs interleave): wait for it.
            if (!connection.park09(headTimestamp, headAck)) return false;
            head.release();
            parked09 = true;
            parked09Sent = Math.max(0, sent);
            state = State.AWAIT_REQUEST;
            return true;
        }
        head.release();
        current = x;
        currentIsRequest = false;
        state = State.BODY_CLOSE;
        addBody(Math.max(0, sent));
        return true;
    }

    private void headInvalid() {
        if (origin == Origin.NEXT_MESSAGE && provisional != null && connection.retract(provisional)) {
            origin = Origin.RESYNC; // it was body after all: framing was never found
        }
        provisional = null;
        switch (origin) {
            case STREAM_START -> connection.notHttp(side);
            case NEXT_MESSAGE -> connection.parseError();
            case RESYNC -> { }
        }
        if (origin != Origin.RESYNC) connection.streamLost(side);
        huntMidSegment = false;
        state = huntLines ? State.AWAIT_LINE : State.AWAIT_SYNC;
        head.release();
    }

    /**
     * After a framing error in a known client's stream with no byte missing, the next request may
     * begin at any line start (as it does for the server, which reads on): look there, strictly.
     */
    private void huntNextRequest() {
        if (state != State.AWAIT_SYNC || connection.role(side) != Http1Connection.CLIENT) return;
        huntLines = true;
        huntBudget = HUNT_BYTES;
        state = State.AWAIT_LINE;
    }

    private void messageDone() {
        probingBody = false;
        ExchangeInProgress done = current;
        current = null;
        beginHead(Origin.NEXT_MESSAGE);
        connection.messageDone(done, currentIsRequest);
    }

    /** What was parsed of this stream rests on roles found wrong: look for a head at the next segment start. */
    void restartFraming() {
        if (state == State.UPGRADED || state == State.ENDED || state == State.AWAIT_REQUEST) {
            connection.streamLost(side);
            return;
        }
        loseFraming();
    }

    private void loseFraming() {
        provisional = null;
        state = State.AWAIT_SYNC;
        current = null;
        head.release();
        connection.streamLost(side);
    }

    private void flag(Anomaly a) {
        if (current != null) current.flag(a, currentIsRequest);
    }

    private void markGap() {
        if (current != null) current.gap = true;
    }

    private void addBody(long n) {
        if (current == null) return;
        if (currentIsRequest) {
            current.requestBody += n;
        } else {
            current.responseBody += n;
        }
    }
}
