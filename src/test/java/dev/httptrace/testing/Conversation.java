package dev.httptrace.testing;

import dev.httptrace.capture.Segment;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A scripted TCP conversation between a client and a server, written the way the capture
 * would see it: each call adds segments with sequence and acknowledgement numbers advancing
 * as they would on the wire, and a clock advancing one millisecond per segment.
 *
 * <pre>{@code
 * List<Segment> segments = Conversation.create()
 *         .handshake()
 *         .client("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
 *         .server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
 *         .segments();
 * }</pre>
 *
 * The list can then be damaged on purpose with {@link Segments}: split, reordered,
 * duplicated, dropped, truncated.
 */
public final class Conversation {
    public static final long START = 1_700_000_000_000_000_000L;
    public static final long STEP = 1_000_000L;

    private final byte[] clientAddress;
    private final byte[] serverAddress;
    private final int clientPort;
    private final int serverPort;
    private final long clientIsn;
    private final long serverIsn;
    private long clientSeq;
    private long serverSeq;
    private long clock = START;
    private final List<Segment> segments = new ArrayList<>();

    private Conversation(byte[] clientAddress, int clientPort, byte[] serverAddress, int serverPort,
                         long clientIsn, long serverIsn) {
        this.clientAddress = clientAddress;
        this.serverAddress = serverAddress;
        this.clientPort = clientPort;
        this.serverPort = serverPort;
        this.clientIsn = clientIsn;
        this.serverIsn = serverIsn;
        this.clientSeq = (clientIsn + 1) & 0xFFFF_FFFFL;
        this.serverSeq = (serverIsn + 1) & 0xFFFF_FFFFL;
    }

    /** 10.0.0.1:40000 talking to 10.0.0.2:80. */
    public static Conversation create() {
        return create(1000, 5000);
    }

    /** The same endpoints, with the given initial sequence numbers. */
    public static Conversation create(long clientIsn, long serverIsn) {
        return new Conversation(new byte[] {10, 0, 0, 1}, 40000, new byte[] {10, 0, 0, 2}, 80, clientIsn, serverIsn);
    }

    /** A conversation on other endpoints (for many connections at once). */
    public static Conversation between(byte[] clientAddress, int clientPort, byte[] serverAddress, int serverPort) {
        return new Conversation(clientAddress, clientPort, serverAddress, serverPort, 1000, 5000);
    }

    /** SYN and SYN-ACK (the bare ACK that completes the handshake carries nothing and is never captured). */
    public Conversation handshake() {
        add(true, clientIsn, 0, Segment.SYN, new byte[0], 0);
        add(false, serverIsn, (clientIsn + 1) & 0xFFFF_FFFFL, Segment.SYN | Segment.ACK, new byte[0], 0);
        return this;
    }

    /** Each piece is one segment from the client. */
    public Conversation client(String... pieces) {
        for (String p : pieces) client(bytes(p));
        return this;
    }

    /** Each piece is one segment from the server. */
    public Conversation server(String... pieces) {
        for (String p : pieces) server(bytes(p));
        return this;
    }

    public Conversation client(byte[] payload) {
        clientSeq = data(true, clientSeq, serverSeq, payload);
        return this;
    }

    public Conversation server(byte[] payload) {
        serverSeq = data(false, serverSeq, clientSeq, payload);
        return this;
    }

    /** The client's bytes cut into segments of at most {@code size} bytes. */
    public Conversation clientInPieces(String text, int size) {
        for (byte[] p : pieces(bytes(text), size)) client(p);
        return this;
    }

    /** The server's bytes cut into segments of at most {@code size} bytes. */
    public Conversation serverInPieces(String text, int size) {
        for (byte[] p : pieces(bytes(text), size)) server(p);
        return this;
    }

    public Conversation clientFin() {
        add(true, clientSeq, serverSeq, Segment.FIN | Segment.ACK, new byte[0], 0);
        clientSeq = (clientSeq + 1) & 0xFFFF_FFFFL;
        return this;
    }

    public Conversation serverFin() {
        add(false, serverSeq, clientSeq, Segment.FIN | Segment.ACK, new byte[0], 0);
        serverSeq = (serverSeq + 1) & 0xFFFF_FFFFL;
        return this;
    }

    public Conversation clientRst() {
        add(true, clientSeq, serverSeq, Segment.RST | Segment.ACK, new byte[0], 0);
        return this;
    }

    /** Lets time pass before the next segment. */
    public Conversation advance(long nanos) {
        clock += nanos;
        return this;
    }

    /** Capture time the next segment would get. */
    public long now() {
        return clock;
    }

    /** Segments added so far (also the index the next one will have). */
    public int count() {
        return segments.size();
    }

    public List<Segment> segments() {
        return new ArrayList<>(segments);
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private long data(boolean fromClient, long seq, long ack, byte[] payload) {
        add(fromClient, seq, ack, Segment.PSH | Segment.ACK, payload, payload.length);
        return (seq + payload.length) & 0xFFFF_FFFFL;
    }

    private void add(boolean fromClient, long seq, long ack, int flags, byte[] payload, int wireLength) {
        segments.add(new Segment(clock, 1,
                fromClient ? clientAddress : serverAddress, fromClient ? serverAddress : clientAddress,
                fromClient ? clientPort : serverPort, fromClient ? serverPort : clientPort,
                seq, ack, flags, wireLength, payload));
        clock += STEP;
    }

    private static List<byte[]> pieces(byte[] all, int size) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < all.length; i += size) out.add(Arrays.copyOfRange(all, i, Math.min(all.length, i + size)));
        return out;
    }
}
