package dev.httptrace.protocol;

import dev.httptrace.exchange.Exchange;
import dev.httptrace.tcp.Connection;
import dev.httptrace.tcp.ConnectionHandler;
import dev.httptrace.tcp.ConnectionListener;
import dev.httptrace.tcp.EndReason;
import dev.httptrace.tcp.SeqNum;
import dev.httptrace.tcp.StreamConsumer;
import dev.httptrace.tcp.TlsOrigin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one place that decides which protocol a connection speaks, once, and hands its two
 * streams to that protocol's module.
 *
 * <p>Seen from its start, a connection is decided by its first bytes (a few are held while they
 * could still go either way, then replayed into the chosen module): a module whose sniffer says
 * yes (the HTTP/2 preface, or a server's SETTINGS), else the fallback (HTTP/1, whose lenient
 * parser handles whatever else comes). Joined mid-way, only the start of a segment is trusted:
 * a strict sniffer's yes decides at once; otherwise the fallback reads the connection
 * tentatively (it hunts for a head of its own), and until it recognises a message, a segment
 * that a strict sniffer accepts still moves the connection to that module, the fallback's
 * reading dropped with what it had counted.
 */
public final class ProtocolRouter implements ConnectionHandler, ProtocolContext {

    /** Where the exchanges of every connection go, with the connection they came from. */
    @FunctionalInterface
    public interface Output {
        void emit(Connection connection, int clientSide, Exchange exchange);
    }

    /** Bytes held per side, from the start, while a sniffer wants more. */
    static final int MAX_SNIFF_BYTES = 64;

    private final Connection connection;
    private final ProtocolModule fallback;
    private final List<ProtocolModule> sniffed;
    private final Output output;
    private final Side[] sides = {new Side(0), new Side(1)};
    private ProtocolModule module;
    private ProtocolConnection handler;
    /** The fallback reads a connection joined mid-way and has not recognised a message yet. */
    private boolean tentative;

    ProtocolRouter(Connection connection, ProtocolModule fallback, List<ProtocolModule> sniffed, Output output) {
        this.connection = connection;
        this.fallback = fallback;
        this.sniffed = List.copyOf(sniffed);
        this.output = output;
    }

    /** A router for each new connection: {@code sniffed} are asked in order, {@code fallback} takes the rest. */
    public static ConnectionListener listener(ProtocolModule fallback, List<ProtocolModule> sniffed, Output output) {
        return connection -> new ProtocolRouter(connection, fallback, sniffed, output);
    }

    /** The protocol decided, or null while undecided. */
    public Protocol protocol() {
        return module == null ? null : module.protocol();
    }

    @Override
    public StreamConsumer stream(int side) {
        return sides[side];
    }

    @Override
    public void onClose(EndReason reason, long timestampNanos) {
        if (handler == null) decide(fallback);
        handler.onClose(reason, timestampNanos);
    }

    @Override
    public void onHandedOver() {
        if (handler != null) handler.onHandedOver();
    }

    @Override
    public void emit(int clientSide, Exchange.Request request, Exchange.Response response, Exchange.TraceInfo trace,
                     Exchange.Http2 http2) {
        int server = 1 - clientSide;
        TlsOrigin origin = connection.tls();
        Exchange.Tls tls = origin == null ? null
                : new Exchange.Tls(origin.process(clientSide), origin.process(server), origin.socketKnown());
        output.emit(connection, clientSide, new Exchange(connection.ifindex(), connection.ipv6(),
                new Exchange.Endpoint(connection.address(clientSide).clone(), connection.port(clientSide)),
                new Exchange.Endpoint(connection.address(server).clone(), connection.port(server)),
                request, response, trace, tls, http2));
    }

    @Override
    public ProtocolConnection upgrade(Protocol next, int clientSide, Exchange.Request request) {
        for (ProtocolModule m : sniffed) {
            if (m.protocol() == next) return m.upgrade(connection, clientSide, request, this);
        }
        return null;
    }

    private boolean joinedMidStream() {
        return sides[0].midStream || sides[1].midStream;
    }

    /** Opens the module's reading of the connection and replays what each side held. */
    private void decide(ProtocolModule m) {
        module = m;
        handler = m.open(connection, joinedMidStream(), this);
        for (Side s : sides) s.replay();
    }

    /** A strict sniffer's yes on a segment of a connection joined mid-way: the module, or null. */
    private ProtocolModule sniffSegment(byte[] buf, int off, int len) {
        for (ProtocolModule m : sniffed) {
            if (m.sniffer().sniff(buf, off, len, false) == ProtocolSniffer.Guess.YES) return m;
        }
        return null;
    }

    /** The tentative fallback gives way to {@code m}: both sides start again, mid-way, at their next byte. */
    private void switchTo(ProtocolModule m, long timestampNanos) {
        handler.onHandedOver();
        tentative = false;
        module = m;
        handler = m.open(connection, true, this);
        for (Side s : sides) {
            if (s.started && !s.ended) handler.stream(s.side).onStart(s.nextSeq, true, timestampNanos);
        }
    }

    /** Bytes kept (a copy) while undecided; a gap or an end decides at once, so nothing else is kept. */
    private record Held(byte[] data, long seq, long ack, long timestampNanos, boolean segmentStart) {}

    /** One direction: passes through once decided; until then holds its start and first bytes. */
    private final class Side implements StreamConsumer {
        final int side;
        boolean started;
        boolean midStream;
        long startSeq;
        long startTimestamp;
        long nextSeq;
        boolean ended;
        private List<Held> held;
        private int heldBytes;

        Side(int side) {
            this.side = side;
        }

        @Override
        public void onStart(long seq, boolean midStream, long timestampNanos) {
            started = true;
            this.midStream = midStream;
            startSeq = seq;
            nextSeq = seq;
            startTimestamp = timestampNanos;
            if (handler != null) handler.stream(side).onStart(seq, midStream, timestampNanos);
        }

        @Override
        public void onData(byte[] buf, int off, int len, long seq, long ack, long timestampNanos, boolean segmentStart) {
            if (handler == null) {
                if (midStream) {
                    ProtocolModule m = segmentStart ? sniffSegment(buf, off, len) : null;
                    tentative = m == null;
                    decide(m == null ? fallback : m);
                } else if (!sniffStart(buf, off, len, seq, ack, timestampNanos, segmentStart)) {
                    return; // held: more bytes will decide
                }
            } else if (tentative && segmentStart) {
                if (handler.recognised()) {
                    tentative = false;
                } else {
                    ProtocolModule m = sniffSegment(buf, off, len);
                    if (m != null) {
                        nextSeq = seq;
                        switchTo(m, timestampNanos);
                    }
                }
            }
            nextSeq = SeqNum.add(seq, len);
            handler.stream(side).onData(buf, off, len, seq, ack, timestampNanos, segmentStart);
        }

        /**
         * The first bytes of a stream seen from its start, with those held before: decides, or
         * holds them (returns false).
         */
        private boolean sniffStart(byte[] buf, int off, int len, long seq, long ack, long ts, boolean segmentStart) {
            byte[] b = buf;
            int o = off;
            int n = len;
            if (heldBytes > 0) { // rare: the first bytes came in pieces
                b = new byte[heldBytes + len];
                int at = 0;
                for (Held h : held) {
                    System.arraycopy(h.data(), 0, b, at, h.data().length);
                    at += h.data().length;
                }
                System.arraycopy(buf, off, b, at, len);
                o = 0;
                n = b.length;
            }
            boolean more = false;
            for (ProtocolModule m : sniffed) {
                switch (m.sniffer().sniff(b, o, n, true)) {
                    case YES -> {
                        decide(m);
                        return true;
                    }
                    case MORE -> more = true;
                    case NO -> { }
                }
            }
            if (more && heldBytes + len < MAX_SNIFF_BYTES) {
                hold(new Held(Arrays.copyOfRange(buf, off, off + len), seq, ack, ts, segmentStart));
                heldBytes += len;
                nextSeq = SeqNum.add(seq, len);
                return false;
            }
            decide(fallback);
            return true;
        }

        @Override
        public void onGap(long bytes, boolean lost, long timestampNanos) {
            if (handler == null) decide(fallback); // nothing left to sniff at the front
            nextSeq = SeqNum.add(nextSeq, bytes);
            handler.stream(side).onGap(bytes, lost, timestampNanos);
        }

        @Override
        public void onEnd(EndReason reason, long timestampNanos) {
            if (handler == null) decide(fallback);
            ended = true;
            handler.stream(side).onEnd(reason, timestampNanos);
        }

        private void hold(Held h) {
            if (held == null) held = new ArrayList<>(2);
            held.add(h);
        }

        /** Hands what this side held to the handler just chosen. */
        void replay() {
            if (!started) return;
            StreamConsumer c = handler.stream(side);
            c.onStart(startSeq, midStream, startTimestamp);
            if (held == null) return;
            for (Held h : held) {
                c.onData(h.data(), 0, h.data().length, h.seq(), h.ack(), h.timestampNanos(), h.segmentStart());
            }
            held = null;
            heldBytes = 0;
        }
    }
}
