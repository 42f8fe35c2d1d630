package dev.httptrace.live;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A raw HTTP/1.x server on a loopback address (port chosen by the kernel) that answers with
 * canned bytes, written exactly as scripted, so that a live test controls what goes on the
 * wire byte for byte and segment by segment.
 *
 * <p>Per connection it reads one request after another: the head, then the body by
 * {@code Content-Length} or {@code chunked} framing (sending {@code 100 Continue} first when
 * the request expects it), and asks the route for the {@link Reply}. Each piece of a reply is
 * one write and flush (with TCP_NODELAY, one segment), with a short pause between pieces.
 * Replies to pipelined requests (more request bytes already waiting) are held and written
 * together with the last one, in one write. After a reply the connection stays open, closes
 * (close-delimited bodies), switches to raw bytes (after {@code 101}), or the request is not
 * answered at all. Every read has a timeout and the server closes every socket it accepted.
 */
final class ScriptedServer implements AutoCloseable {

    /** What the connection does after a reply is written. */
    enum After {
        /** Read the next request. */
        KEEP_ALIVE,
        /** Close the connection (the reply's body is delimited by the close). */
        CLOSE,
        /** The connection switched protocols: read and discard whatever comes until the client closes. */
        RAW
    }

    /** The interim response sent before reading a body when the request has {@code Expect: 100-continue}. */
    static final String CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";

    /** Reads block at most this long; a peer that goes silent longer ends its connection. */
    static final int READ_TIMEOUT_MILLIS = 30_000;

    /** Heads longer than this are refused (the connection is closed). */
    static final int MAX_HEAD = 2 << 20;

    /** Pause between two pieces written separately, so that each is its own segment. */
    static final long PIECE_PAUSE_MILLIS = 15;

    /**
     * A request as the server read it.
     *
     * @param headers  lower-cased names; repeated headers joined with ", "
     * @param bodySize body bytes (chunked framing not counted)
     */
    record Request(String method, String target, String version, Map<String, String> headers, long bodySize) {
        String path() {
            int q = target.indexOf('?');
            return q < 0 ? target : target.substring(0, q);
        }
    }

    /**
     * The bytes to answer with and what to do next. An empty list of pieces leaves the
     * request unanswered. {@code gate}, when set, is awaited (at most a minute) before the
     * piece at index {@code gateBefore} is written, so a test can hold a response mid-body.
     */
    record Reply(List<byte[]> pieces, After after, long pauseMillis, CountDownLatch gate, int gateBefore) {
        static Reply of(After after, String... pieces) {
            List<byte[]> bytes = new ArrayList<>();
            for (String p : pieces) {
                bytes.add(p.getBytes(StandardCharsets.ISO_8859_1));
            }
            return new Reply(bytes, after, PIECE_PAUSE_MILLIS, null, -1);
        }

        static Reply keepAlive(String... pieces) {
            return of(After.KEEP_ALIVE, pieces);
        }

        static Reply bytes(After after, List<byte[]> pieces) {
            return new Reply(List.copyOf(pieces), after, PIECE_PAUSE_MILLIS, null, -1);
        }

        static Reply none() {
            return new Reply(List.of(), After.KEEP_ALIVE, 0, null, -1);
        }

        /** The same pieces written every {@code pauseMillis}, holding at {@code gateBefore} until the gate opens. */
        Reply paced(long pause, CountDownLatch latch, int before) {
            return new Reply(pieces, after, pause, latch, before);
        }

        int length() {
            int n = 0;
            for (byte[] p : pieces) {
                n += p.length;
            }
            return n;
        }
    }

    private final ServerSocket listener;
    private final Function<Request, Reply> routes;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final List<Request> received = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile boolean closed;

    /** Listens on {@code loopbackAddress} (127.0.0.1 or ::1), answering each request with {@code routes}. */
    ScriptedServer(String loopbackAddress, Function<Request, Reply> routes) {
        listener = listen(loopbackAddress, 64);
        this.routes = routes;
        acceptor = Thread.ofPlatform().daemon().name("scripted-accept-" + port()).start(this::acceptLoop);
    }

    /** A listening socket on {@code loopbackAddress} (127.0.0.1 or ::1; nothing else), port chosen by the kernel. */
    static ServerSocket listen(String loopbackAddress, int backlog) {
        try {
            InetAddress address = InetAddress.getByName(loopbackAddress);
            if (!address.isLoopbackAddress()) {
                throw new IllegalArgumentException("loopback only: " + loopbackAddress);
            }
            ServerSocket listener = new ServerSocket();
            listener.bind(new InetSocketAddress(address, 0), backlog);
            return listener;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port() {
        return listener.getLocalPort();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /** Requests read so far, in the order they were read. */
    List<Request> received() {
        return List.copyOf(received);
    }

    /** Waits (bounded) until a request for {@code path} has been read completely. */
    boolean awaitRequest(String path, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            for (Request r : received) {
                if (r.path().equals(path)) {
                    return true;
                }
            }
            Thread.sleep(10);
        }
        return false;
    }

    /** Errors met while serving (a test asserts there were none). */
    List<Throwable> failures() {
        return List.copyOf(failures);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = listener.accept();
                sockets.add(s);
                Thread.ofPlatform().daemon().name("scripted-conn-" + s.getPort()).start(() -> serve(s));
            } catch (IOException e) {
                if (!closed) {
                    failures.add(e);
                }
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(READ_TIMEOUT_MILLIS);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
            OutputStream out = socket.getOutputStream();
            ByteArrayOutputStream held = new ByteArrayOutputStream();
            while (!closed) {
                byte[] head = readHead(in);
                if (head == null) {
                    break; // the client closed between requests
                }
                Request partial = parseHead(head);
                if ("100-continue".equalsIgnoreCase(partial.headers().get("expect"))) {
                    write(out, CONTINUE.getBytes(StandardCharsets.ISO_8859_1));
                }
                long body = readBody(in, partial.headers());
                Request request = new Request(partial.method(), partial.target(), partial.version(),
                        partial.headers(), body);
                Reply reply = routes.apply(request);
                received.add(request);
                if (reply == null) {
                    throw new IllegalStateException("no route for " + request.method() + " " + request.target());
                }
                boolean pipelined = reply.after() == After.KEEP_ALIVE && reply.gate() == null && in.available() > 0;
                if (pipelined) {
                    for (byte[] p : reply.pieces()) {
                        held.write(p);
                    }
                    continue; // answered with the last request of the batch, in one write
                }
                if (held.size() > 0) {
                    for (byte[] p : reply.pieces()) {
                        held.write(p);
                    }
                    write(out, held.toByteArray());
                    held.reset();
                } else {
                    writePieces(out, reply);
                }
                if (reply.after() == After.CLOSE) {
                    break;
                }
                if (reply.after() == After.RAW) {
                    drain(in);
                    break;
                }
            }
        } catch (SocketException | EOFException e) {
            // the peer reset or closed mid-message: the test decides whether that was expected
        } catch (Throwable e) {
            if (!closed) {
                failures.add(e);
            }
        } finally {
            sockets.remove(socket);
        }
    }

    private static void writePieces(OutputStream out, Reply reply) throws IOException, InterruptedException {
        List<byte[]> pieces = reply.pieces();
        for (int i = 0; i < pieces.size(); i++) {
            if (i == reply.gateBefore() && reply.gate() != null && !reply.gate().await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("gate not opened within 60 s");
            }
            if (i > 0 && reply.pauseMillis() > 0) {
                Thread.sleep(reply.pauseMillis());
            }
            write(out, pieces.get(i));
        }
    }

    private static void write(OutputStream out, byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[8192];
        while (in.read(buf) >= 0) {
            // discard: not HTTP any more
        }
    }

    /** The head up to and including the blank line; null at a clean end of stream before any byte. */
    static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(256);
        int state = 0; // how much of CR LF CR LF has been seen
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (head.size() == 0) {
                    return null;
                }
                throw new EOFException("end of stream inside a head");
            }
            head.write(b);
            if (head.size() > MAX_HEAD) {
                throw new IOException("head longer than " + MAX_HEAD);
            }
            state = switch (state) {
                case 0, 2 -> b == '\r' ? state + 1 : 0;
                case 1 -> b == '\n' ? 2 : b == '\r' ? 1 : 0;
                case 3 -> b == '\n' ? 4 : b == '\r' ? 1 : 0;
                default -> 0;
            };
            if (state == 4) {
                return head.toByteArray();
            }
        }
    }

    private static Request parseHead(byte[] head) throws IOException {
        String[] lines = new String(head, StandardCharsets.ISO_8859_1).split("\r\n");
        String[] start = lines[0].split(" ", 3);
        if (start.length != 3 || !start[2].startsWith("HTTP/1.")) {
            throw new IOException("not a request line: " + lines[0]);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).trim();
                headers.merge(name, value, (a, b) -> a + ", " + b);
            }
        }
        return new Request(start[0], start[1], start[2].substring(5), Collections.unmodifiableMap(headers), 0);
    }

    /** Reads (and discards) the body the head announces; returns its size without chunked framing. */
    private static long readBody(InputStream in, Map<String, String> headers) throws IOException {
        String te = headers.get("transfer-encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).endsWith("chunked")) {
            long total = 0;
            while (true) {
                String line = readLine(in);
                int semicolon = line.indexOf(';');
                long size = Long.parseLong((semicolon < 0 ? line : line.substring(0, semicolon)).trim(), 16);
                if (size == 0) {
                    while (!readLine(in).isEmpty()) {
                        // trailer fields
                    }
                    return total;
                }
                skip(in, size);
                total += size;
                if (!readLine(in).isEmpty()) {
                    throw new IOException("chunk data not followed by CRLF");
                }
            }
        }
        String length = headers.get("content-length");
        if (length == null) {
            return 0;
        }
        long n = Long.parseLong(length);
        skip(in, n);
        return n;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("end of stream inside a chunked body");
            }
            if (b == '\n') {
                int n = line.length();
                return n > 0 && line.charAt(n - 1) == '\r' ? line.substring(0, n - 1) : line.toString();
            }
            if (line.length() > 8192) {
                throw new IOException("line too long in a chunked body");
            }
            line.append((char) b);
        }
    }

    private static void skip(InputStream in, long n) throws IOException {
        byte[] buf = new byte[8192];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw new EOFException("end of stream inside a body");
            }
            n -= r;
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
